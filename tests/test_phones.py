"""Phone numbers: E.164 when valid, a reason a person understands when not, and their zones."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from phonenumbers.timezone import time_zones_for_number
from phonenumbers.tzdata import TIMEZONE_DATA

from campaigns.lists.headers import find_phone_column
from campaigns.lists.phones import PhoneReader
from campaigns.lists.region_zones import region_zones
from dialer.errors import InputError


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("(415) 555-1234", "+14155551234"),
        ("415.555.1234", "+14155551234"),
        ("+1 415 555 1234", "+14155551234"),
        ("1-415-555-1234", "+14155551234"),
        ("+44 20 7946 0958", "+442079460958"),
        ("0044 20 7946 0958", "+442079460958"),  # 00 dialled out, though US dials 011
        ("011 44 20 7946 0958", "+442079460958"),
        ("+39 06 6982 0000", "+390669820000"),  # Italy keeps its leading zero
    ],
)
def test_numbers_in_many_forms_read_to_e164(text: str, e164: str) -> None:
    assert PhoneReader("US").read(text).e164 == e164


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("call me", "not a number"),
        ("=1+2", "not a number"),
        ("123", "too short"),
        ("555-1234", "too short (no area code)"),
        ("4155551234567890123", "too long"),
        ("+1 200 555 0100", "not valid in US"),
        ("+44 99 7946 0958", "not valid in GB"),
        ("+1 415 555 1234 ext. 7", "has an extension"),
        ("+999 123 4567", "unknown country code"),
    ],
)
def test_each_reason(text: str, reason: str) -> None:
    reading = PhoneReader("US").read(text)
    assert (reading.e164, reading.error) == ("", reason)


def test_region_names_the_country_of_national_numbers() -> None:
    assert PhoneReader("gb").read("020 7946 0958").e164 == "+442079460958"
    assert PhoneReader("GB").read("020 7946 09").error == "not valid in GB"


def test_a_bad_region_names_the_option() -> None:
    with pytest.raises(InputError, match="--region 'XX'"):
        PhoneReader("XX")


def test_zones_from_the_number_with_fallback_to_the_country() -> None:
    reader = PhoneReader("US")
    assert reader.read("+1 212 555 0100").zones == ("America/New_York",)
    assert reader.read("+44 7400 123456").zones == ("Europe/London",)  # a mobile: the region's
    assert reader.read("+44 7911 123456").zones == ("Europe/Guernsey",)  # a Guernsey mobile
    assert len(reader.read("+7 912 345 67 89").zones) > 5  # Russia: every zone it spans
    assert reader.read("+800 1234 5678").zones == reader.read("+1 800 555 0199").zones


def test_the_fast_reading_agrees_with_phonenumbers() -> None:
    """Plain digit strings skip phonenumbers.parse: they must read exactly as parse reads."""
    reader, rng = PhoneReader("US"), random.Random(7)
    prefixes = ["", "+1", "+44", "+49", "+7", "+39", "+61", "+52", "+55", "+590", "+47"]
    for _ in range(3000):
        text = rng.choice(prefixes) + str(rng.randrange(10 ** rng.randint(6, 12)))
        try:
            number = phonenumbers.parse(text, "US")
            valid = phonenumbers.is_valid_number(number)
        except phonenumbers.NumberParseException:
            valid = False
        reading = reader.read(text)
        if not valid:
            assert reading.e164 == "", text
            continue
        assert reading.e164 == phonenumbers.format_number(number, 0), text
        assert reading.zones == expected_zones(number) or not expected_zones(number), text


def expected_zones(number: phonenumbers.PhoneNumber) -> tuple[str, ...]:
    """phonenumbers' zones, but a calling code's whole list narrowed to the number's region
    where several regions share the code (campaigns/lists/region_zones.py)."""
    zones = tuple(z for z in time_zones_for_number(number) if z != "Etc/Unknown")
    code = number.country_code or 0
    if len(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code, ())) > 1 and zones == tuple(
        z for z in TIMEZONE_DATA.get(str(code), ()) if z != "Etc/Unknown"
    ):
        return region_zones(phonenumbers.region_code_for_number(number) or "") or zones
    return zones


@pytest.mark.parametrize(
    ("headers", "index"),
    [
        (["Name", "Phone Number"], 1),
        (["name", "to_number"], 1),
        (["x", "Mobile-Phone", "tel"], 1),
        (["Name", "Phone 1 - Value"], 1),
        (["Name", "E-mail"], None),
    ],
)
def test_phone_column_is_found_by_its_header(headers: list[str], index: int | None) -> None:
    assert find_phone_column(headers) == index
