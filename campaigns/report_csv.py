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
from collections.abc import Iterable
from itertools import islice
from typing import IO

FORMULA_PREFIX = "'"
_FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
# A number or a phone number: digits, spaces and + - ( ) . / only, at least one digit.
_NUMBER_LIKE = re.compile(r"[+\-]?[\d ().\-/]*\d[\d ().\-/]*(?:[eE][+\-]?\d+)?")
_BATCH_ROWS = 10_000

Record = list[str]


def is_formula_like(cell: str) -> bool:
    """True when a spreadsheet opening the CSV could take `cell` for a live formula."""
    return cell[:1] in _FORMULA_STARTS and _NUMBER_LIKE.fullmatch(cell) is None


def safe_cell(cell: str) -> str:
    """`cell` as a CSV report writes it by default: text, never a formula."""
    return FORMULA_PREFIX + cell if is_formula_like(cell) else cell


def safe_cells(cells: list[str]) -> list[str]:
    starts = _FORMULA_STARTS
    for cell in cells:  # nearly every row has none: check before building a new list
        if cell[:1] in starts and _NUMBER_LIKE.fullmatch(cell) is None:
            return [safe_cell(c) if c[:1] in starts else c for c in cells]
    return cells


def write_csv(
    out: IO[bytes],
    header: Record,
    records: Iterable[Record],
    *,
    raw: bool = False,
) -> None:
    """Write `header` and `records` to the binary file `out` (which the caller closes)."""
    out.write("\ufeff".encode())  # the BOM
    clean = (lambda record: record) if raw else safe_cells
    _write_batch(out, [clean(header)])
    rows = iter(records)
    while batch := list(islice(rows, _BATCH_ROWS)):
        _write_batch(out, batch if raw else [safe_cells(record) for record in batch])


def _write_batch(out: IO[bytes], batch: list[Record]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL).writerows(batch)
    out.write(buffer.getvalue().encode("utf-8"))
