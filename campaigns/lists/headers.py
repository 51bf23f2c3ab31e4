"""Which columns of a contact list hold phone numbers, and in what order to try them.

Exports name their phone columns in the language of the person who made them and in their
own compound ways: `Phone`, `Telefon`, `Téléphone`, `Teléfono`, `Handy`, `Celular`, `電話`,
`Contact Phone Number`, `Phone1Number`, Google Contacts' `Phone 1 - Value`, Outlook's
`Business Phone`/`Primary Phone`, HubSpot's `Mobile Phone Number`, Salesforce's `MOBILEPHONE`.
A header is cut into words (spaces, punctuation, camelCase, digits, accents folded) and is a
phone column when a word is a phone word, or when it is only "number" (`To Number`). Columns
that describe a phone rather than hold one (`Phone 1 - Type`, `Phone Ext`, `Fax`, consent and
country-code columns) are left out.

Order: columns marked mobile (Mobile, Handy, Cell, Celular, 携帯...) first, then the others,
each group in the export's own order. A row whose first choice is empty is called on the next.
Google Contacts marks each number's kind per row instead (`Phone 2 - Type` or, in newer
exports, `Phone 2 - Label` beside `Phone 2 - Value`: `Mobile`, `Work`, `* Mobile` for the
primary): `type_columns` pairs them, and a row's number marked mobile is read first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_MOBILE_WORDS = frozenset(
    [
        "mobile",
        "mobil",
        "mobiel",
        "mobiele",
        "movil",
        "handy",
        "cell",
        "cellphone",
        "cellular",
        "celular",
        "cellulare",
        "cellulaire",
        "portable",
        "gsm",
        "sms",
        "mobiltelefon",
        "mobilnummer",
        "handynummer",
        "mobilny",
        "mobilni",
        "komorka",
        "komorkowy",
        "cep",
        "mobilenumber",
        "mobilephone",
        "mobiletelefon",
        "kannykka",
        "matkapuhelin",
        "мобильный",
        "мобильного",
        "сотовый",
        "мобiльний",
    ]
)
_PHONE_WORDS = _MOBILE_WORDS | frozenset(
    [
        "phone",
        "phones",
        "telephone",
        "tel",
        "tele",
        "telefon",
        "telefone",
        "telefono",
        "telefoni",
        "telefonnummer",
        "telefonnummern",
        "telefoon",
        "telefoonnummer",
        "tlf",
        "puhelin",
        "puhelinnumero",
        "rufnummer",
        "fon",
        "phonenumber",
        "msisdn",
        "whatsapp",
        "landline",
        "festnetz",
        "телефон",
        "телефона",
        "тел",
        "номертелефона",
        "τηλεφωνο",
        "τηλ",
        "טלפון",
        "هاتف",
        "جوال",
        "fone",
        "dienthoai",
        "sdt",
    ]
)
_NUMBER_WORDS = frozenset(
    ["number", "numbers", "num", "no", "nr", "numero", "nummer", "numer", "numéro", "номер"]
)
_FILLER_WORDS = frozenset(
    ["to", "contact", "primary", "main", "de", "du", "of", "the", "value", "1", "2", "3"]
)
# Words that make a column about phones rather than one that holds a number to call.
_NOT_A_NUMBER = frozenset(
    [
        "type",
        "label",
        "kind",
        "ext",
        "extension",
        "country",
        "code",
        "prefix",
        "consent",
        "opt",
        "optin",
        "optout",
        "status",
        "verified",
        "valid",
        "validated",
        "fax",
        "pager",
        "carrier",
        "date",
        "time",
        "dnc",
        "donotcall",
        "ok",
        "allowed",
        "format",
        "formatted",
        "region",
        "area",
        "iso",
    ]
)
# Scripts without spaces: matched inside the header.
_CJK_PHONE = ("電話", "电话", "携帯", "手机", "手機", "전화", "휴대폰", "핸드폰", "เบอร์", "โทร")
_CJK_MOBILE = ("携帯", "手机", "手機", "휴대폰", "핸드폰")
_WORD = re.compile(r"[^\W\d_]+|\d+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")


def words(header: str) -> list[str]:
    """A header's words: `Phone1Number` -> phone, 1, number; `Téléphone` -> telephone."""
    split = _CAMEL.sub(" ", header.strip())
    folded = "".join(
        ch for ch in unicodedata.normalize("NFKD", split) if not unicodedata.combining(ch)
    )
    return _WORD.findall(folded.casefold())


def _compound(found: list[str]) -> list[str]:
    """Words joined as some exports write them: MOBILEPHONE, PhoneNumber, TELEFONNUMMER."""
    return [*found, "".join(found)] if len(found) > 1 else found


def is_phone_header(header: str) -> bool:
    found = words(header)
    if any(word in _CJK_PHONE for word in found) or any(k in header for k in _CJK_PHONE):
        return True
    if not found or _NOT_A_NUMBER.intersection(found):
        return False
    if _PHONE_WORDS.intersection(_compound(found)) or "".join(found) in _PHONE_WORDS:
        return True
    return bool(_NUMBER_WORDS.intersection(found)) and set(found) <= _NUMBER_WORDS | _FILLER_WORDS


def is_mobile_header(header: str) -> bool:
    found = words(header)
    return bool(_MOBILE_WORDS.intersection(_compound(found))) or any(
        k in header for k in _CJK_MOBILE
    )


def phone_columns(headers: Sequence[str]) -> list[int]:
    """Every phone column, in the order a row's number is looked for: mobile ones first."""
    phones = [i for i, header in enumerate(headers) if is_phone_header(header)]
    return [i for i in phones if is_mobile_header(headers[i])] + [
        i for i in phones if not is_mobile_header(headers[i])
    ]


def find_phone_column(headers: Sequence[str]) -> int | None:
    """The first column to read a row's number from, or None when no header names one."""
    found = phone_columns(headers)
    return found[0] if found else None


def type_columns(headers: Sequence[str], phones: Sequence[int]) -> tuple[int | None, ...]:
    """For each phone column, the column that says per row what kind of number it holds
    (Google Contacts' `Phone 2 - Type` or `Phone 2 - Label` for `Phone 2 - Value`), or None."""
    by_name = {header.strip().casefold(): i for i, header in enumerate(headers)}
    found: list[int | None] = []
    for column in phones:
        name = headers[column].strip().casefold()
        stem = name.removesuffix("value")
        kinds = [by_name.get(stem + kind) for kind in ("type", "label")] if stem != name else []
        found.append(next((i for i in kinds if i is not None), None))
    return tuple(found)
