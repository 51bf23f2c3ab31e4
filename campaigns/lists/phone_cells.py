"""A row's number, found where people put it: plain functions, cells in, reading out.

- The row's phone columns are tried in order (`headers.phone_columns` or `--phone-columns`);
  an empty cell passes to the next. A cell that holds something is the row's answer, callable
  or not: a wrong number is never silently swapped for another column's.
- A cell holding several numbers (`+1 650-253-0000 ::: +44 20 7031 3000`, `;`, `/`, `|`, a new
  line) gives the first callable one, and the row's error says so.
- `14155550123.0` (a spreadsheet or pandas wrote the number as a decimal) is read as its digits,
  and said; `4.4207946e+11` is refused with the reason: the E+ notation has lost digits.

Nothing here holds state but the `PhoneReader` passed in, so worker processes can call it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from campaigns.lists.phones import PhoneReader, PhoneReading

_SEVERAL = re.compile(r"\s*(?::::|;|/|\||\n|\r)\s*")
_DECIMAL = re.compile(r"^\s*(\+?\d{6,})\.0+\s*$")
_E_NOTATION = re.compile(r"^\s*[+-]?\d(?:[.,]\d+)?[eE]\+?\d+\s*$")
_MAX_PARTS = 10  # numbers weighed in one cell
_MIN_DIGITS = 6  # a part with fewer digits is a piece of one number, not a number


def read_row_phone(
    cells: Sequence[str], columns: Sequence[int], headers: Sequence[str], reader: PhoneReader
) -> tuple[PhoneReading, int]:
    """The row's reading and the column it came from (the first column when all are empty)."""
    for position, index in enumerate(columns):
        cell = cells[index] if index < len(cells) else ""
        if not cell.strip():
            continue
        reading = read_cell(cell, reader)
        if position and reading.is_valid:
            passed = ", ".join(repr(headers[i].strip()) for i in columns[:position])
            reading = _noted(reading, f"{passed} empty: number from {headers[index].strip()!r}")
        return reading, index
    return PhoneReading("", error="empty"), columns[0]


def read_cell(cell: str, reader: PhoneReader) -> PhoneReading:
    reading = reader.read(cell)
    if reading.is_valid:
        return reading
    if cell.startswith("="):
        return PhoneReading(
            "",
            error=f"a formula ({cell[:40]}) whose value was never saved: open the file in a "
            "spreadsheet, let it calculate, save it, and use that file",
        )
    if _E_NOTATION.match(cell):
        return PhoneReading(
            "",
            error=f"written as {cell.strip()}: a spreadsheet showed the number in E+ notation "
            "and its last digits are lost; format the column as Text and export it again",
        )
    if decimal := _DECIMAL.match(cell):
        digits = reader.read(decimal.group(1))
        if digits.is_valid:
            return _noted(digits, f"read {cell.strip()} as {decimal.group(1)} (saved as a decimal)")
        return digits
    parts = [part for part in _SEVERAL.split(cell) if part.strip()]
    # `/` also sits inside one number (`0171/1234567`): there, several only if each part
    # could be a number on its own
    sure = any(mark in cell for mark in (":::", ";", "|", "\n"))
    each_a_number = all(sum(ch.isdigit() for ch in part) >= _MIN_DIGITS for part in parts)
    if len(parts) > 1 and (sure or each_a_number):
        return _first_callable(parts[:_MAX_PARTS], reader, len(parts)) or reading
    return reading


def _first_callable(parts: list[str], reader: PhoneReader, count: int) -> PhoneReading | None:
    for part in parts:
        found = reader.read(part)
        if found.is_valid:
            return _noted(found, f"{count} numbers in the cell: the first callable one is called")
    first = reader.read(parts[0])
    return PhoneReading("", error=f"{count} numbers in the cell, none callable ({first.error})")


def _noted(reading: PhoneReading, note: str) -> PhoneReading:
    note = f"{reading.error}; {note}" if reading.error else note
    return PhoneReading(reading.e164, reading.zones, note)
