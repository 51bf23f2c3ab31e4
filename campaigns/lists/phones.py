"""Phone numbers: the text a person wrote, read into E.164 with the zones it may ring in.

`PhoneReader.read` turns one cell into a `PhoneReading`: the E.164 number and its time zones,
or a reason a person understands ("too short", "not valid in US", ...). phonenumbers costs tens
of microseconds per number, so a reader keeps a bounded cache of the texts it has read, and
reads plain digit strings (`+14155550123`, `415 555 0123`) without `phonenumbers.parse`. Validity
is phonenumbers' own (`number_type`), replayed with each country's patterns compiled once;
tests/test_phones.py checks both shortcuts against phonenumbers on random numbers.
Which header names a phone column is `campaigns.lists.headers`' concern.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberType
from phonenumbers.phonemetadata import PhoneMetadata, PhoneNumberDesc
from phonenumbers.timezone import UNKNOWN_TIMEZONE, time_zones_for_geographical_number
from phonenumbers.tzdata import TIMEZONE_DATA

from campaigns.lists.region_zones import region_zones
from dialer.errors import InputError

_SEPARATORS = str.maketrans("", "", " -.()")
_READ_CACHE_SIZE = 65_536  # distinct texts remembered; bounds memory on huge lists
_MAX_NATIONAL_DIGITS = 17  # longer is "too long" for parse: leave those to it

_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
    NumberParseException.NOT_A_NUMBER: "not a number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}
_LENGTH_REASONS = {
    phonenumbers.ValidationResult.TOO_SHORT: "too short",
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "too short (no area code)",
    phonenumbers.ValidationResult.TOO_LONG: "too long",
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
}


@dataclass(frozen=True)
class PhoneReading:
    """One cell read: `e164` and `zones` when valid, else `e164 == ""` and `error` says why.
    A valid reading's `error` may note how the number was found (the report shows it)."""

    e164: str
    zones: tuple[str, ...] = ()
    error: str = ""

    @property
    def is_valid(self) -> bool:
        return bool(self.e164)


@dataclass(frozen=True)
class _Prefixes:
    """What `phonenumbers.parse` would strip from a country's numbers; None when it is more
    than a plain pattern, in which case only `parse` itself can be trusted."""

    national_prefix: re.Pattern[str] | None
    international_prefix: re.Pattern[str] | None

    @classmethod
    def of(cls, metadata: PhoneMetadata) -> _Prefixes | None:
        pattern = metadata.national_prefix_for_parsing
        if metadata.national_prefix_transform_rule is not None:
            return None
        national = re.compile(pattern) if pattern else None
        if national is not None and national.match("") is not None:
            return None
        idd = metadata.international_prefix
        return cls(national, re.compile(idd) if idd else None)

    def strips(self, digits: str) -> bool:
        """True if `parse` could read a prefix off the front of `digits`."""
        return self.national_prefix is not None and self.national_prefix.match(digits) is not None

    def starts_international(self, digits: str) -> bool:
        return self.international_prefix is not None and bool(
            self.international_prefix.match(digits)
        )


class PhoneReader:
    """Reads phone numbers written for `region` (numbers without a country code are read as
    that region's). Caches what it read; make one per pass over a list."""

    def __init__(self, region: str, cache_size: int = _READ_CACHE_SIZE) -> None:
        code = region.strip().upper()
        if code not in phonenumbers.SUPPORTED_REGIONS:
            raise InputError(
                f"--region {region!r} is not a region code: give the two-letter ISO code of the "
                "country numbers without a country code belong to, such as US, GB or DE."
            )
        self.region = code
        self._country_code = phonenumbers.country_code_for_region(code)
        self._types_by_code: dict[int, _CountryTypes] = {}
        self._prefixes_by_code: dict[int, _Prefixes | None] = {}
        self._country_zones_by_code: dict[int, tuple[str, ...]] = {}
        # National numbers follow the default region's own rules, as parse reads them (BB's
        # 310-1234 is +1 246 310-1234, not US's +1 310-1234); None sends them all to parse.
        metadata = PhoneMetadata.metadata_for_region(code)
        self._region_prefixes = _Prefixes.of(metadata) if metadata is not None else None
        self.read = functools.lru_cache(maxsize=cache_size)(self._read_uncached)

    def _read_uncached(self, text: str) -> PhoneReading:
        if not text.strip():
            return PhoneReading("", error="empty")
        plain = self._read_plain_digits(text)
        if plain is None:
            return self._read_with_parse(text)
        number, parse_agrees = plain
        kind = self._number_type(number)
        if kind != PhoneNumberType.UNKNOWN:
            return self._reading(number, kind)
        # An invalid plain number is read again by `parse` only when parse might read it
        # differently: invalid numbers are the slowest to check (every region of +1 is tried).
        if parse_agrees:
            return PhoneReading("", error=self._invalid_reason(number))
        return self._read_with_parse(text)

    def _read_with_parse(self, text: str) -> PhoneReading:
        try:
            number = phonenumbers.parse(text, self.region)
        except NumberParseException as error:
            reason = _PARSE_REASONS.get(error.error_type, "not a number")
            return self._read_after_00(text) or PhoneReading("", error=reason)
        if number.extension:
            return PhoneReading("", error="has an extension")
        kind = self._number_type(number)
        if kind == PhoneNumberType.UNKNOWN:
            return self._read_after_00(text) or PhoneReading("", error=self._invalid_reason(number))
        return self._reading(number, kind)

    def _read_after_00(self, text: str) -> PhoneReading | None:
        """`0044 20 ...` read as `+44 20 ...`: most of the world dials out with 00, so a list
        kept elsewhere writes numbers so even when `--region` (e.g. US, which dials 011) does
        not. Only tried on a number that the region could not read."""
        stripped = text.strip()
        if not stripped.startswith("00") or stripped.startswith("000"):
            return None
        reading = self._read_with_parse("+" + stripped[2:])
        return reading if reading.is_valid else None

    def _number_type(self, number: PhoneNumber) -> int:
        """`phonenumbers.number_type`, with each country's patterns compiled once."""
        code = number.country_code or 0
        nsn = phonenumbers.national_significant_number(number)
        if code not in self._types_by_code:
            self._types_by_code[code] = _CountryTypes.of(code)
        return self._types_by_code[code].number_type(nsn)

    def _invalid_reason(self, number: PhoneNumber) -> str:
        length = phonenumbers.is_possible_number_with_reason(number)
        if length in _LENGTH_REASONS:
            return _LENGTH_REASONS[length]
        code = number.country_code or 0
        if code == self._country_code:
            return f"not valid in {self.region}"
        region = phonenumbers.region_code_for_country_code(code)
        if region in ("ZZ", "001"):  # unknown, or a non-geographic code such as +800
            return "not a valid number"
        return f"not valid in {region}"

    def _read_plain_digits(self, text: str) -> tuple[PhoneNumber, bool] | None:
        """The number in `text` when it is only digits and separators, read the way
        `phonenumbers.parse` would read it if valid, and whether parse would also read it so if
        invalid; None when only `parse` can tell."""
        compact = text.strip().translate(_SEPARATORS)
        international = compact.startswith("+")
        digits = compact[1:] if international else compact
        if not (digits.isascii() and digits.isdigit()) or digits.startswith("0"):
            return None
        if international:
            number = self._plain_international(digits)
            return None if number is None else (number, True)
        prefixes = self._region_prefixes
        if prefixes is None or prefixes.strips(digits) or prefixes.starts_international(digits):
            return None
        number = PhoneNumber(country_code=self._country_code, national_number=int(digits))
        # parse reads a leading country code off an invalid national number (4420... in GB)
        return number, not digits.startswith(str(self._country_code))

    def _plain_international(self, digits: str) -> PhoneNumber | None:
        # Country codes are prefix-free: the first 1-3 digit prefix that is one is the one.
        for length in (1, 2, 3):
            code = int(digits[:length])
            if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                national = digits[length:]
                prefixes = self._prefixes(code)
                if not national or national.startswith("0") or prefixes is None:
                    return None
                if prefixes.strips(national) or len(national) > _MAX_NATIONAL_DIGITS:
                    return None
                return PhoneNumber(country_code=code, national_number=int(national))
        return None

    def _prefixes(self, country_code: int) -> _Prefixes | None:
        if country_code not in self._prefixes_by_code:
            region = phonenumbers.region_code_for_country_code(country_code)
            metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
            self._prefixes_by_code[country_code] = (
                _Prefixes.of(metadata) if metadata is not None else None
            )
        return self._prefixes_by_code[country_code]

    def _reading(self, number: PhoneNumber, kind: int) -> PhoneReading:
        code = number.country_code or 0
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        zones: tuple[str, ...] = ()
        if phonenumbers.is_number_type_geographical(kind, code):
            zones = _known(time_zones_for_geographical_number(number))
        # Mobile and non-geographic numbers, and prefixes without zone data, get every zone of
        # their calling code (a window then holds only when it holds in all of them); where
        # several regions share the code, those of the number's region (BB: America/Barbados,
        # not the 42 of +1). Numbers of no country (+800) get the zones of --region's.
        if not zones or zones == self._country_zones(code):
            zones = (
                self._shared_code_zones(number, code)
                or self._country_zones(code)
                or region_zones(self.region)
                or self._country_zones(self._country_code)
            )
        return PhoneReading(e164, zones)

    def _shared_code_zones(self, number: PhoneNumber, country_code: int) -> tuple[str, ...]:
        """The zones of the number's region when its calling code is shared, else ()."""
        if len(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())) < 2:
            return ()
        return region_zones(phonenumbers.region_code_for_number(number) or "")

    def _country_zones(self, country_code: int) -> tuple[str, ...]:
        if country_code not in self._country_zones_by_code:
            zones = _known(TIMEZONE_DATA.get(str(country_code), ()))
            self._country_zones_by_code[country_code] = zones
        return self._country_zones_by_code[country_code]


# The order phonenumbers tests a number's types in (phonenumberutil._number_type_helper).
_TYPE_ORDER = (
    ("premium_rate", PhoneNumberType.PREMIUM_RATE),
    ("toll_free", PhoneNumberType.TOLL_FREE),
    ("shared_cost", PhoneNumberType.SHARED_COST),
    ("voip", PhoneNumberType.VOIP),
    ("personal_number", PhoneNumberType.PERSONAL_NUMBER),
    ("pager", PhoneNumberType.PAGER),
    ("uan", PhoneNumberType.UAN),
    ("voicemail", PhoneNumberType.VOICEMAIL),
)


@dataclass(frozen=True)
class _Pattern:
    lengths: frozenset[int]
    regex: re.Pattern[str] | None

    @classmethod
    def of(cls, desc: PhoneNumberDesc | None) -> _Pattern:
        text = desc.national_number_pattern if desc is not None else None
        lengths = frozenset(desc.possible_length or ()) if desc is not None else frozenset()
        return cls(lengths, re.compile(text) if text else None)

    def matches(self, nsn: str) -> bool:
        if self.lengths and len(nsn) not in self.lengths:
            return False
        return self.regex is not None and self.regex.fullmatch(nsn) is not None


class _RegionTypes:
    """One region's number types, as phonenumbers' _number_type_helper tests them, with the
    patterns compiled once: phonenumbers looks each one up again on every call, which makes
    it most of the cost of reading a million numbers."""

    def __init__(self, metadata: PhoneMetadata) -> None:
        self.general = _Pattern.of(metadata.general_desc)
        self.others = [(_Pattern.of(getattr(metadata, name)), kind) for name, kind in _TYPE_ORDER]
        self.fixed_line = _Pattern.of(metadata.fixed_line)
        self.mobile = _Pattern.of(metadata.mobile)
        self.same_mobile_and_fixed = bool(metadata.same_mobile_and_fixed_line_pattern)
        leading = metadata.leading_digits
        self.leading_digits = re.compile(leading) if leading else None

    def number_type(self, nsn: str) -> int:
        if not self.general.matches(nsn):
            return PhoneNumberType.UNKNOWN
        for pattern, kind in self.others:
            if pattern.matches(nsn):
                return kind
        if self.fixed_line.matches(nsn):
            if self.same_mobile_and_fixed or self.mobile.matches(nsn):
                return PhoneNumberType.FIXED_LINE_OR_MOBILE
            return PhoneNumberType.FIXED_LINE
        if not self.same_mobile_and_fixed and self.mobile.matches(nsn):
            return PhoneNumberType.MOBILE
        return PhoneNumberType.UNKNOWN


class _CountryTypes:
    """A country code's regions in phonenumbers' order (region_code_for_number): the first
    whose leading digits match, or without leading digits the first the number is valid in."""

    def __init__(self, regions: list[_RegionTypes]) -> None:
        self.regions = regions

    @classmethod
    def of(cls, country_code: int) -> _CountryTypes:
        names = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
        found = [
            PhoneMetadata.metadata_for_region_or_calling_code(country_code, name) for name in names
        ]
        return cls([_RegionTypes(metadata) for metadata in found if metadata is not None])

    def number_type(self, nsn: str) -> int:
        if len(self.regions) == 1:
            return self.regions[0].number_type(nsn)
        for region in self.regions:
            if region.leading_digits is not None:
                if region.leading_digits.match(nsn):
                    return region.number_type(nsn)
            else:
                kind = region.number_type(nsn)
                if kind != PhoneNumberType.UNKNOWN:
                    return kind
        return PhoneNumberType.UNKNOWN


def _known(zones: Sequence[str]) -> tuple[str, ...]:
    return tuple(zone for zone in zones if zone != UNKNOWN_TIMEZONE)
