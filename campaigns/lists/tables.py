"""Any list file as a header and records of text: CSV in any encoding people write, or .xlsx.

Every cell stays text exactly as written: no type guessing. CSV: the encoding is decided on
evidence (`campaigns.lists.encoding`), Excel's `sep=;` first line is honoured, otherwise the
delimiter is the one among `,` `;` tab `|` that gives most records the same width; title lines
above the header (one filled cell over a wider table) are left out, and said. A line or cell too
long to be a contact's is refused naming the limit, not blamed on quoting. .xlsx:
`campaigns.lists.xlsx`.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path
from typing import Protocol

from campaigns.lists.encoding import TextEncoding, detect_encoding
from campaigns.lists.xlsx import XlsxReader
from dialer.errors import InputError

_SNIFF_CHARS = 64 * 1024
_SNIFF_RECORDS = 50
_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {"comma": ",", "semicolon": ";", "tab": "\t", "\\t": "\t", "pipe": "|"}
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls (and .doc) container
_SEP_LINE = re.compile(r"^\ufeff?\"?sep=(.)\"?\s*$", re.IGNORECASE)
MAX_LINE_CHARS = 4 << 20  # one physical line of a CSV
MAX_CELL_CHARS = 131_072  # csv's own field limit; Excel's cell limit is 32,767

Records = Generator[tuple[int, list[str]], None, None]


class Table(Protocol):
    path: Path

    def records(self) -> Records:
        """Every non-blank record, header first, each with its line (CSV) or sheet row."""

    def describe(self) -> str:
        """How the file was read, for the plan: encoding, delimiter, lines left out."""


def is_blank(cells: Sequence[str]) -> bool:
    return all(not cell.strip() for cell in cells)


class CsvTable:
    def __init__(
        self, path: Path, encoding: TextEncoding, delimiter: str, skip_lines: int, how: str
    ) -> None:
        self.path = path
        self.encoding = encoding
        self.delimiter = delimiter
        self.skip_lines = skip_lines  # a `sep=` line and title lines above the header
        self._how = how

    def describe(self) -> str:
        return f"{self.path.name}: {self.encoding.describe()}, {self._how}."

    def records(self) -> Records:
        with self.path.open(encoding=self.encoding.codec, newline="") as file:
            lines = _bounded_lines(file, self.path)
            # strict: a quote left open fails loudly instead of swallowing the rest of the file
            reader = csv.reader(lines, delimiter=self.delimiter, strict=True)
            try:
                for cells in reader:
                    if reader.line_num > self.skip_lines and not is_blank(cells):
                        yield reader.line_num, cells
            except csv.Error as error:
                raise InputError(_csv_error(self.path, reader.line_num, error)) from None


def _csv_error(path: Path, line: int, error: csv.Error) -> str:
    if "field larger than field limit" in str(error):
        return (
            f"{path}: line {line} has a cell longer than {MAX_CELL_CHARS:,} characters, the "
            "limit: that is no contact's cell (check that the file is the list you meant)."
        )
    return (
        f"{path}: cannot read line {line} ({error}). A cell that holds quotes must be quoted "
        f'whole, its quotes doubled: "say ""hi""".'
    )


def _bounded_lines(file: io.TextIOBase, path: Path) -> Iterator[str]:
    for number, line in enumerate(iter(lambda: file.readline(MAX_LINE_CHARS), ""), start=1):
        if len(line) >= MAX_LINE_CHARS and not line.endswith(("\n", "\r")):
            raise InputError(
                f"{path}: line {number} is longer than {MAX_LINE_CHARS:,} characters, the "
                "limit for one line: that is no contact list (check the file)."
            )
        yield line


class XlsxTable:
    def __init__(self, path: Path) -> None:
        self.path = path

    def describe(self) -> str:
        return f"{self.path.name}: the first sheet of the workbook, every row to its end."

    def records(self) -> Records:
        for number, cells in XlsxReader(self.path).rows():
            if not is_blank(cells):
                yield number, cells


def open_table(
    path: Path,
    role: str,
    *,
    allow_empty: bool = False,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> Table:
    """The file at `path` as a table; `role` ("contact list") names it in every message."""
    label = f"{role} {path}"
    try:
        if path.is_dir():
            raise InputError(f"{label} is a directory: give the path of a .csv or .xlsx file.")
        with path.open("rb") as file:
            head = file.read(_SNIFF_CHARS)
    except FileNotFoundError:
        raise InputError(f"{label} does not exist: check the path.") from None
    except OSError as error:
        raise InputError(f"{label} cannot be read: {error.strerror}.") from None
    if not head.strip() and not allow_empty:
        raise InputError(f"{label} is empty: it needs a header row and one row per contact.")
    if head.startswith(_ZIP_MAGIC) or path.suffix.lower() in (".xlsx", ".xlsm"):
        table = XlsxTable(path)
        if not head.startswith(_ZIP_MAGIC):
            next(table.records(), None)  # raises the "not a readable .xlsx" message
        return table
    if head.startswith(_OLE_MAGIC):
        raise InputError(
            f"{label} is an old-style .xls workbook: save it as .xlsx or CSV and use that."
        )
    text_encoding = detect_encoding(path, label, encoding)
    return _csv_table(path, text_encoding, _delimiter_option(delimiter))


def _delimiter_option(given: str | None) -> str | None:
    if given is None:
        return None
    value = _DELIMITER_NAMES.get(given.strip().lower(), given)
    if len(value) != 1 or value in '"\r\n':
        raise InputError(
            f"--delimiter {given!r} is not one character: give , ; | or tab (the word)."
        )
    return value


def _csv_table(path: Path, encoding: TextEncoding, given: str | None) -> CsvTable:
    with path.open(encoding=encoding.codec, newline="", errors="replace") as file:
        sample = file.read(_SNIFF_CHARS)
    if len(sample) == _SNIFF_CHARS:
        sample = sample[: sample.rfind("\n") + 1] or sample  # drop a record cut in half
    first_line = sample.split("\n", 1)[0].rstrip("\r")
    skip = 0
    if sep := _SEP_LINE.match(first_line):
        skip, given = 1, given or sep.group(1)
        sample = sample.split("\n", 1)[1] if "\n" in sample else ""
    how = "delimiter as given" if given and not sep else "Excel's sep= line" if sep else ""
    delimiter = given or _sniff_delimiter(sample)
    titles = _title_lines(sample, delimiter)
    how = f"delimiter {delimiter!r}" + (f" ({how})" if how else "")
    if titles:
        how += f", {titles} title line{'s' if titles > 1 else ''} above the header left out"
    return CsvTable(path, encoding, delimiter, skip + titles, how)


def _sniff_delimiter(sample: str) -> str:
    """The delimiter that gives most records one width above 1 (a title line over the table
    does not count against it), then the widest."""
    best, best_score = ",", (False, 0, 0)
    for delimiter in _DELIMITERS:
        widths = [len(r) for r in _sample_records(sample, delimiter) if r]  # empty lines: not
        if not widths:
            continue
        wide = [w for w in widths if w > 1]  # one-cell lines (titles, footers) say nothing
        width, count = Counter(wide or widths).most_common(1)[0]
        score = (width > 1, count, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _title_lines(sample: str, delimiter: str) -> int:
    """Lines above the header that hold one filled cell over a table of several columns."""
    records = _sample_records(sample, delimiter)
    widths = [sum(1 for c in r if c.strip()) for r in records if not is_blank(r)]
    if len(widths) < 3 or Counter(widths).most_common(1)[0][0] < 2:
        return 0
    for lines, cells in enumerate(records):
        if sum(1 for cell in cells if cell.strip()) > 1:
            return lines
    return 0


def _sample_records(sample: str, delimiter: str) -> list[list[str]]:
    records: list[list[str]] = []
    try:
        for cells in csv.reader(io.StringIO(sample), delimiter=delimiter):
            records.append(cells)
            if len(records) >= _SNIFF_RECORDS:
                break
    except csv.Error:
        pass  # a sample cut inside a quoted cell: what was read still counts
    return records
