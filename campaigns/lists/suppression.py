"""The suppression list: numbers never to call (`--suppress FILE`).

The file is one number per line, or a table with a phone column (found the way the contact
list's is). Its numbers are read like the list's, with the same --region, and compared in E.164,
so `(415) 555-0123` suppresses `+14155550123`. Entries that are not valid numbers are skipped:
they cannot equal a valid number, so skipping them never lets a suppressed number through.
Reading the file itself (encodings, delimiters, .xlsx) is `campaigns.lists.tables.open_table`'s job.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain
from pathlib import Path

from campaigns.lists.headers import find_phone_column
from campaigns.lists.phones import PhoneReader
from dialer.errors import InputError


def suppressed_numbers(
    path: Path, records: Iterable[list[str]], phones: PhoneReader
) -> frozenset[str]:
    """The E.164 numbers of a suppression file whose records (header first) are `records`."""
    rows = iter(records)
    first = next(rows, None)
    if first is None:
        return frozenset()  # an empty list suppresses nobody; a run with it is still valid
    column = find_phone_column(first)
    if column is None:
        if len(first) > 1:
            raise InputError(
                f"suppression list (--suppress) {path} has several columns but none is named "
                "like a phone column (phone, number, mobile, ...): name it 'phone', or give "
                "one number per line."
            )
        column, rows = 0, chain([first], rows)  # one per line: the first line is a number too
    return frozenset(_valid_numbers(rows, column, phones))


def _valid_numbers(rows: Iterator[list[str]], column: int, phones: PhoneReader) -> Iterator[str]:
    for cells in rows:
        if column < len(cells):
            reading = phones.read(cells[column])
            if reading.is_valid:
                yield reading.e164
