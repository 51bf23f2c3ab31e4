"""Every region's numbers read as libphonenumber reads them.

`PhoneReader` reads plain digit strings without `phonenumbers.parse`; this differential test
pins that shortcut to parse itself with every supported region as the default region, on the
example numbers of every type in every format, and on mutations of them (a digit dropped,
added, changed; a national number with its trunk prefix dropped).

The quick form (in `make test`) takes each region's own numbers and those of the regions that
share its calling code (where the bugs live: BB, GG, JE, ... under +1 and +44). The full sweep,
every region's numbers under every default region, is opt-in:
`DIALER_FULL_SWEEP=1 .venv/bin/pytest -m sweep tests/test_phone_regions.py` (a few minutes).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import phonenumbers
import pytest
from phonenumbers import NumberParseException, PhoneNumberFormat

from campaigns.lists.phones import PhoneReader

_TYPES = (
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.TOLL_FREE,
    phonenumbers.PhoneNumberType.PREMIUM_RATE,
    phonenumbers.PhoneNumberType.SHARED_COST,
    phonenumbers.PhoneNumberType.VOIP,
    phonenumbers.PhoneNumberType.PERSONAL_NUMBER,
    phonenumbers.PhoneNumberType.PAGER,
    phonenumbers.PhoneNumberType.UAN,
    phonenumbers.PhoneNumberType.VOICEMAIL,
)
_FORMATS = (PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.NATIONAL)
_REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)


def expected_e164(text: str, region: str) -> str:
    """What libphonenumber makes of `text` under `region`: E.164 if valid, else "" (with the
    reader's one documented addition: `00` read as `+` when the region cannot read it)."""
    found = _parse_valid(text, region)
    stripped = text.strip()
    if not found and stripped.startswith("00") and not stripped.startswith("000"):
        found = _parse_valid("+" + stripped[2:], region)
    return found


def _parse_valid(text: str, region: str) -> str:
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return ""
    if number.extension or not phonenumbers.is_valid_number(number):
        return ""
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _examples(region: str) -> Iterator[phonenumbers.PhoneNumber]:
    for kind in _TYPES:
        number = phonenumbers.example_number_for_type(region, kind)
        if number is not None:
            yield number


def _texts(number: phonenumbers.PhoneNumber, region: str) -> Iterator[str]:
    """The number as people write it, and mutations of each writing."""
    for form in _FORMATS:
        text = phonenumbers.format_number(number, form)
        yield text
        digits = "".join(ch for ch in text if ch.isdigit())
        plus = "+" if text.startswith("+") else ""
        yield plus + digits[:-1]  # a digit dropped
        yield plus + digits + "7"  # a digit added
        yield plus + digits[:-1] + str((int(digits[-1]) + 3) % 10)  # the last digit changed
        if form == PhoneNumberFormat.NATIONAL:
            yield str(number.national_number)  # the trunk prefix left out
            yield digits.lstrip("0")
    yield phonenumbers.format_out_of_country_calling_number(number, region)


def _check(default: str, sources: list[str]) -> list[str]:
    reader = PhoneReader(default)
    wrong = []
    for source in sources:
        for number in _examples(source):
            for text in _texts(number, default):
                got = reader.read(text).e164
                want = expected_e164(text, default)
                if got != want:
                    wrong.append(f"--region {default}: {text!r} read {got!r}, parse {want!r}")
    return wrong


def _siblings(region: str) -> list[str]:
    code = phonenumbers.country_code_for_region(region)
    return list(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code, (region,)))


def test_the_issue_cases() -> None:
    assert PhoneReader("BB").read("310-1234").e164 == "+12463101234"
    assert PhoneReader("JE").read("07797 712345").e164 == "+447797712345"
    assert PhoneReader("GG").read("01481 256789").e164 == "+441481256789"
    assert PhoneReader("US").read("555-1234").error == "too short (no area code)"


@pytest.mark.parametrize("region", _REGIONS)
def test_each_region_reads_its_calling_code_as_parse_does(region: str) -> None:
    wrong = _check(region, _siblings(region))
    assert not wrong, "\n".join(wrong[:20])


@pytest.mark.sweep
@pytest.mark.skipif(not os.environ.get("DIALER_FULL_SWEEP"), reason="set DIALER_FULL_SWEEP=1")
@pytest.mark.parametrize("region", _REGIONS)
def test_full_sweep_every_region_under_every_default(region: str) -> None:
    wrong = _check(region, _REGIONS)
    assert not wrong, "\n".join(wrong[:20])
