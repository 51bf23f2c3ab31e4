"""The CSV outcome report: the fastest correct writer measured here, and safe to open.

UTF-8 with a BOM (Excel then shows accents), RFC 4180 quoting by the csv module, `\\r\\n` line
endings. Rows are formatted a batch at a time into memory and written as one encoded block:
the csv module's C writer does the quoting (pandas' `to_csv` uses the same writer), and the
batches keep memory flat whatever the row count.

Safe to open (the default): a spreadsheet reads a cell that starts with `=`, `+`, `-` or `@`
(or a tab or carriage return before one) as a formula, and a formula can run commands or send
data away (`=cmd|' /C calc'!A0`, `=HYPERLINK(...)`). Such a cell, from the input or from the
API (a transcript), is written with a `'` in front, which makes it text: `'=1+2`. Cells that
only look like numbers are left alone, so they read as before: numbers (`-12.5`, `1e3`) and
phone numbers (`+1 (212) 555-0100`, `+44 20 7946 0958`), which hold only digits, spaces and
`+ - ( ) . /`: such a cell can at most be arithmetic, never a call, a reference or a link. The
full-width signs (`＝＋－＠`) that some spreadsheets take for their ASCII forms count too.
`csv_raw` writes every cell exactly as read, for programs.
"""

from __future__ import annotations

import csv
import io
import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from itertools import accumulate, chain, compress, count, islice
from operator import itemgetter
from typing import IO, Protocol, runtime_checkable

from campaigns.report.summary import SummaryCounter

FORMULA_PREFIX = "'"
_FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
# A number or a phone number: digits, spaces and + - ( ) . / only, at least one digit.
_NUMBER_LIKE = re.compile(r"[+\-]?[\d ().\-/]*\d[\d ().\-/]*(?:[eE][+\-]?\d+)?")
_STARTS_CONTAIN = _FORMULA_STARTS.__contains__
_FIRST_CHAR = itemgetter(slice(0, 1))  # "" for an empty cell
_BATCH_ROWS = 10_000

Record = list[str]


def is_formula_like(cell: str) -> bool:
    """True when a spreadsheet opening the CSV could take `cell` for a live formula."""
    return cell[:1] in _FORMULA_STARTS and _NUMBER_LIKE.fullmatch(cell) is None


def safe_cell(cell: str) -> str:
    """`cell` as a CSV report writes it by default: text, never a formula."""
    return FORMULA_PREFIX + cell if is_formula_like(cell) else cell


def safe_cells(cells: list[str]) -> list[str]:
    """`cells` as written by default; the same list when none needs changing (nearly all)."""
    return safe_records([cells])[0]


def safe_records(records: list[Record]) -> list[Record]:
    """`records` as written by default: a record with a cell to make text is replaced by a
    copy with `safe_cell` applied; the same list when none needs changing (nearly all)."""
    # A batch's cells are tested in C, all at once (a million rows, twenty cells each): only
    # those starting with a formula sign are looked at here, mostly phone numbers (`+1 212...`).
    cells = list(chain.from_iterable(records))
    formula_records: set[int] = set()
    record_ends: list[int] = []
    for at in compress(count(), map(_STARTS_CONTAIN, map(_FIRST_CHAR, cells))):
        cell = cells[at]
        if (cell[0] in "+-" and cell[1:].isdecimal()) or _NUMBER_LIKE.fullmatch(cell):
            continue  # `+12125550100`, `-5`, `+1 (212) 555-0100`: a number
        record_ends = record_ends or list(accumulate(map(len, records)))
        formula_records.add(bisect_right(record_ends, at))
    if not formula_records:
        return records
    records = list(records)
    for index in formula_records:
        records[index] = [safe_cell(cell) for cell in records[index]]
    return records


@runtime_checkable
class CsvBatches(Protocol):
    """Rows that give their CSV records directly, a batch at a time (a stored campaign:
    campaigns/report/records.py), with no object per row."""

    def csv_batches(self, width: int, counter: SummaryCounter) -> Iterator[list[Record]]:
        """Records of `width` input cells (padded or cut), then the result columns; each row
        counted in `counter`."""
        ...


def write_csv(
    out: IO[bytes],
    header: Record,
    records: Iterable[Record],
    *,
    raw: bool = False,
) -> None:
    """Write `header` and `records` to the binary file `out` (which the caller closes)."""
    rows = iter(records)
    write_csv_batches(out, header, iter(lambda: list(islice(rows, _BATCH_ROWS)), []), raw=raw)


def write_csv_batches(
    out: IO[bytes],
    header: Record,
    batches: Iterable[list[Record]],
    *,
    raw: bool = False,
) -> None:
    """`write_csv` of records given a batch at a time."""
    out.write("\ufeff".encode())  # the BOM
    _write_batch(out, [header if raw else safe_cells(header)])
    for batch in batches:
        _write_batch(out, batch if raw else safe_records(batch))


def _write_batch(out: IO[bytes], batch: list[Record]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL).writerows(batch)
    out.write(buffer.getvalue().encode("utf-8"))
