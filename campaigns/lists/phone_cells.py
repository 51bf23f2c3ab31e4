"""A row's number, found where people put it: plain functions, cells in, reading out.

- The row's phone columns are tried in order (`headers.phone_columns` or `--phone-columns`);
  an empty cell passes to the next. A cell that holds something is the row's answer, callable
  or not: a wrong number is never silently swapped for another column's. Where the export
  marks each number's kind per row (Google Contacts' `Phone 2 - Type` = `Mobile`), the row's
  numbers marked mobile are tried first, and the row's error column says so when that changed
  which number is called.
- A cell holding several numbers (`+1 650-253-0000 ::: +44 20 7031 3000`, `;`, `/`, `|`, a new
  line) gives the first callable one, and the row's error says so.
- `14155550123.0` (a spreadsheet or pandas wrote the number as a decimal) is read as its digits,
  and said; `4.4207946e+11` is refused with the reason: the E+ notation has lost digits.

Nothing here holds state but the `PhoneReader` passed in, so worker processes can call it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from campaigns.lists.headers import is_mobile_header
from campaigns.lists.phones import PhoneReader, PhoneReading

_SEVERAL = re.compile(r"\s*(?::::|;|/|\||\n|\r)\s*")
_DECIMAL = re.compile(r"^\s*(\+?\d{6,})\.0+\s*$")
_E_NOTATION = re.compile(r"^\s*[+-]?\d(?:[.,]\d+)?[eE]\+?\d+\s*$")
_MAX_PARTS = 10  # numbers weighed in one cell
_MIN_DIGITS = 6  # a part with fewer digits is a piece of one number, not a number


def read_row_phone(
    cells: Sequence[str],
    columns: Sequence[int],
    headers: Sequence[str],
    reader: PhoneReader,
    types: Sequence[int | None] = (),
) -> tuple[PhoneReading, int]:
    """The row's reading and the column it came from (the first column when all are empty).
    `types`, when given, holds for each of `columns` the column saying its kind, or None."""
    order = _mobile_first(cells, columns, types) if any(t is not None for t in types) else columns
    first = _first_filled(cells, columns)
    index = first if order is columns else _first_filled(cells, order)
    if index is None:
        return PhoneReading("", error="empty"), columns[0]
    reading = read_cell(_cell(cells, index), reader)
    if index != first:  # moved ahead: its row marks it mobile
        kind = types[columns.index(index)]
        if kind is not None:
            said = f"{headers[kind].strip()!r} is {_cell(cells, kind).strip()!r}"
            note = f"the mobile number read first, from {headers[index].strip()!r}"
            reading = _noted(reading, f"{said}: {note}")
    elif (position := columns.index(index)) and reading.is_valid:
        passed = ", ".join(repr(headers[i].strip()) for i in columns[:position])
        reading = _noted(reading, f"{passed} empty: number from {headers[index].strip()!r}")
    return reading, index


def _cell(cells: Sequence[str], index: int) -> str:
    return cells[index] if index < len(cells) else ""


def _first_filled(cells: Sequence[str], columns: Sequence[int]) -> int | None:
    return next((i for i in columns if _cell(cells, i).strip()), None)


def _mobile_first(
    cells: Sequence[str], columns: Sequence[int], types: Sequence[int | None]
) -> list[int]:
    """The row's columns, those whose kind cell says mobile first, each group in order."""
    marked = [
        c
        for c, t in zip(columns, types, strict=True)
        if t is not None and _says_mobile(_cell(cells, t))
    ]
    return marked + [c for c in columns if c not in marked]


@functools.lru_cache(maxsize=1024)
def _says_mobile(kind: str) -> bool:
    """`Mobile`, `mobile`, `* Mobile` (Google's primary number), `Handy`, `Cell`..."""
    return bool(kind.strip()) and is_mobile_header(kind)


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
