"""One .xlsx cell as the text a person sees in it: the value, its type and its number format.

- shared string, inline string, formula string: the text;
- a number: as its format shows it where the format is one of the plain ones (`0`, `00000`,
  `0.00`, `#,##0`), as a date or time where the format is a date's, else as Excel's General:
  an integer without `.0` and without E notation (14155550123, not 1.4155550123E+10);
- TRUE/FALSE, error values (`#N/A`) as written;
- a formula whose value was never saved (files written by programs, not spreadsheets): its
  formula text, `=A1&B1`, so a phone cell says what it is instead of reading as empty.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

# Built-in number formats that are dates or times (ECMA-376 18.8.30, plus the CJK ones).
_BUILTIN_DATES = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])
_BUILTIN_FORMATS = {1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 49: "@"}
_DATE_CODE = re.compile(r"[dmyhs]", re.IGNORECASE)
_QUOTED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')
_PLAIN = re.compile(r"^(#,##)?0+(\.0+)?$")


class CellFormats:
    """The workbook's styles: style index -> number format."""

    def __init__(self, date1904: bool = False) -> None:
        self.epoch = datetime(1904, 1, 1) if date1904 else datetime(1899, 12, 30)
        self._codes: dict[int, str] = dict(_BUILTIN_FORMATS)
        self._style_formats: list[int] = []

    def add_format(self, format_id: int, code: str) -> None:
        self._codes[format_id] = code

    def add_style(self, format_id: int) -> None:
        self._style_formats.append(format_id)

    def of(self, style: int) -> tuple[int, str]:
        format_id = self._style_formats[style] if 0 <= style < len(self._style_formats) else 0
        return format_id, self._codes.get(format_id, "General")

    def is_date(self, style: int) -> bool:
        format_id, code = self.of(style)
        if format_id in _BUILTIN_DATES:
            return True
        return format_id >= 164 and bool(_DATE_CODE.search(_QUOTED.sub("", code.split(";")[0])))


def column_index(ref: str) -> int:
    """`B7` -> 1: the 0-based column of a cell reference."""
    number = 0
    for ch in ref:
        if not ch.isalpha():
            break
        number = number * 26 + (ord(ch.upper()) - 64)
    return number - 1


def cell_text(
    kind: str, value: str, formula: str, style: int, formats: CellFormats, strings: list[str]
) -> str:
    if not value and formula:
        return "=" + formula
    if kind == "s":
        index = int(value) if value.strip().isdigit() else -1
        return strings[index] if 0 <= index < len(strings) else ""
    if kind in ("str", "inlineStr", "e"):
        return value
    if kind == "b":
        return "TRUE" if value.strip() in ("1", "true") else "FALSE"
    if kind == "d":
        return value.split("T00:00:00")[0]
    return number_text(value, style, formats) if value else ""


def number_text(value: str, style: int, formats: CellFormats) -> str:
    try:
        number = float(value)
    except ValueError:
        return value
    if formats.is_date(style) and 0 <= number < 2_958_466:  # through 9999-12-31
        return _date_text(number, formats)
    _, code = formats.of(style)
    plain = code.split(";")[0]
    if _PLAIN.match(plain):
        decimals = len(plain.split(".")[1]) if "." in plain else 0
        text = f"{number:,.{decimals}f}" if plain.startswith("#,##") else f"{number:.{decimals}f}"
        width = len(plain) if set(plain) == {"0"} else 0
        return text.zfill(width) if number >= 0 else text
    return general_text(number, value)


def general_text(number: float, written: str) -> str:
    """Excel's General: integers whole (no `.0`, no E notation), others as written."""
    if number.is_integer() and abs(number) < 1e17:
        return str(int(number))
    if "E" in written.upper():
        return repr(number)
    return written


def _date_text(serial: float, formats: CellFormats) -> str:
    moment = formats.epoch + timedelta(days=serial)
    moment = moment.replace(microsecond=0) + timedelta(seconds=round(moment.microsecond / 1e6))
    if serial < 1:
        return time(moment.hour, moment.minute, moment.second).isoformat()
    if moment.time() == time(0):
        return moment.date().isoformat()
    return moment.isoformat()
