"""Contact lists: a CSV or .xlsx file read, streamed, into `NewRow`s the store takes.

Two layers. `open_table` reads a file as a header and text records, whatever its format:
CSV in UTF-8 (with or without BOM), UTF-16 with BOM or Windows-1252, delimiter sniffed among
`,` `;` tab `|`; or the first sheet of an .xlsx. Every cell stays text exactly as written: no
type guessing. `open_contact_list` then finds the phone, variable and time zone columns and
judges each row.

Decisions (documented for the report and the CLI):
- Row numbers are those a person sees in a spreadsheet: the header is row 1, the first data
  row row 2, so data row `idx` (0-based) is row `idx + 2`, as in the outcome report. Blank rows
  are skipped and not counted; an error about a CSV record also gives its line in the file.
- A row with fewer cells than the header is padded with empty cells. A row with more non-empty
  cells than the header is an error naming the row; extra empty cells (trailing delimiters,
  as spreadsheets export them) are dropped.
- A row's checks, in order: invalid number, then unknown zone in --timezone-column (both
  `invalid`), then on the suppression list (`suppressed`, on every row with that number), then
  a number seen on an earlier callable row (`duplicate`, naming the row that carries the call).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

import charset_normalizer
import openpyxl

from campaigns.phones import PhoneReader, PhoneReading, find_phone_column
from campaigns.store import NewRow, RowStatus
from campaigns.suppression import suppressed_numbers
from dialer.errors import InputError

PHONE_COLUMN_HINT = "--phone-column NAME"
_CHUNK_BYTES = 1 << 20
_SNIFF_CHARS = 64 * 1024
_SNIFF_RECORDS = 50
_DELIMITERS = (",", ";", "\t", "|")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls (and .doc) container
_SHOWN_HEADERS = 30


@dataclass(frozen=True)
class ListOptions:
    phone_column: str | None = None
    region: str = "US"
    variables: list[str] | None = None
    timezone_column: str | None = None
    suppress: Path | None = None


# --- tables: any file as a header and records of text ---------------------------------------


Records = Generator[tuple[int, list[str]], None, None]


class Table(Protocol):
    path: Path

    def records(self) -> Records:
        """Every non-blank record, header first, each with its line (CSV) or sheet row."""


def _is_blank(cells: Sequence[str]) -> bool:
    return all(not cell.strip() for cell in cells)


class CsvTable:
    def __init__(self, path: Path, encoding: str, delimiter: str) -> None:
        self.path = path
        self.encoding = encoding
        self.delimiter = delimiter

    def records(self) -> Records:
        with self.path.open(encoding=self.encoding, newline="") as file:
            # strict: a quote left open fails loudly instead of swallowing the rest of the file
            reader = csv.reader(file, delimiter=self.delimiter, strict=True)
            try:
                for cells in reader:
                    if not _is_blank(cells):
                        yield reader.line_num, cells
            except csv.Error as error:
                raise InputError(
                    f"{self.path}: cannot read line {reader.line_num} ({error}). A cell that "
                    f'holds quotes must be quoted whole, its quotes doubled: "say ""hi""".'
                ) from None


class XlsxTable:
    def __init__(self, path: Path) -> None:
        self.path = path

    def records(self) -> Records:
        workbook = _open_workbook(self.path)
        try:
            sheet = workbook.worksheets[0]
            for number, row in enumerate(sheet.iter_rows(), start=1):
                cells = [_xlsx_text(cell.value, getattr(cell, "number_format", "")) for cell in row]
                if not _is_blank(cells):
                    yield number, cells
        finally:
            workbook.close()


def _open_workbook(path: Path) -> openpyxl.Workbook:
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises zip, XML and key errors alike for a broken file
        raise InputError(
            f"{path} is not a readable .xlsx workbook: open it in a spreadsheet and save it as "
            ".xlsx (or as CSV, and name it .csv)."
        ) from None


def _xlsx_text(value: object, number_format: str) -> str:
    """A cell as the person sees it: 42 not 42.0, 00123 kept when formatted so, ISO dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    if isinstance(value, int):
        # a format of only zeros ("00000") pads, as zip codes and ids are often kept
        width = len(number_format) if number_format and set(number_format) == {"0"} else 0
        return str(value).zfill(width)
    return str(value)


def open_table(path: Path, role: str, *, allow_empty: bool = False) -> Table:
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
        if not head.startswith(_ZIP_MAGIC):
            _open_workbook(path)  # raises the "not a readable .xlsx" message
        return XlsxTable(path)
    if head.startswith(_OLE_MAGIC):
        raise InputError(
            f"{label} is an old-style .xls workbook: save it as .xlsx or CSV and use that."
        )
    encoding = _text_encoding(path, head, label)
    return CsvTable(path, encoding, _sniff_delimiter(path, encoding))


def _text_encoding(path: Path, head: bytes, label: str) -> str:
    save_as = "save it as CSV UTF-8 (or .xlsx) and try again"
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise InputError(f"{label} is in UTF-32, which is not supported: {save_as}.")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates: tuple[str, ...] = ("utf-16",)
    elif head.startswith(codecs.BOM_UTF8):
        candidates = ("utf-8-sig",)
    elif b"\0" in head:
        if _looks_like_utf16(head):
            raise InputError(f"{label} looks like UTF-16 without a byte-order mark: {save_as}.")
        raise InputError(f"{label} is a binary file, not a CSV or .xlsx contact list.")
    else:
        candidates = ("utf-8", "cp1252")  # Excel's "CSV" on Windows writes Windows-1252
    for encoding in candidates:
        if _decodes(path, encoding):
            return encoding
    guess = charset_normalizer.from_bytes(head).best()
    seen = f" (it looks like {guess.encoding})" if guess is not None else ""
    raise InputError(f"{label} is in an encoding the dialer does not read{seen}: {save_as}.")


def _looks_like_utf16(head: bytes) -> bool:
    """ASCII text in UTF-16 without a BOM: every other byte is NUL, the others are not."""
    for zeros, chars in ((head[1::2], head[0::2]), (head[0::2], head[1::2])):
        if zeros.count(0) >= 0.9 * len(zeros) and chars.count(0) == 0:
            return True
    return False


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as file:
            while chunk := file.read(_CHUNK_BYTES):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _sniff_delimiter(path: Path, encoding: str) -> str:
    """The delimiter that gives the header most columns and the rows below the same count."""
    with path.open(encoding=encoding, newline="") as file:
        sample = file.read(_SNIFF_CHARS)
    if len(sample) == _SNIFF_CHARS:
        sample = sample[: sample.rfind("\n") + 1] or sample  # drop a record cut in half
    best, best_score = ",", (False, 0, 0)
    for delimiter in _DELIMITERS:
        counts = [len(r) for r in _sample_records(sample, delimiter) if not _is_blank(r)]
        if not counts:
            continue
        consistent = sum(count == counts[0] for count in counts[1:])
        score = (counts[0] > 1, consistent, counts[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


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


# --- the contact list --------------------------------------------------------------------------


def unique_keys(headers: Sequence[str]) -> list[str]:
    """Headers stripped of padding, repeats made unique (`Name`, `Name_2`), blanks named."""
    keys: list[str] = []
    used: set[str] = set()
    for number, header in enumerate(headers, start=1):
        base = header.strip() or f"column_{number}"
        key, suffix = base, 2
        while key in used:
            key, suffix = f"{base}_{suffix}", suffix + 1
        used.add(key)
        keys.append(key)
    return keys


@dataclass(frozen=True)
class _Columns:
    phone: int
    variables: tuple[int, ...]
    timezone: int | None


class ContactList:
    """A validated contact list. `rows()` streams it again from the file on each call."""

    def __init__(
        self,
        table: Table,
        headers: list[str],
        columns: _Columns,
        region: str,
        suppressed: frozenset[str],
    ) -> None:
        self.path = table.path
        self.headers = headers
        self.keys = unique_keys(headers)
        self.phone_index = columns.phone
        self._table = table
        self._columns = columns
        self._region = region
        self._suppressed = suppressed

    def rows(self) -> Iterator[NewRow]:
        judge = self.judge()
        for idx, cells in self.records():
            yield judge.judge(idx, cells)

    @property
    def region(self) -> str:
        return self._region

    def records(self) -> Iterator[tuple[int, list[str]]]:
        """Each data row's index and cells, fitted to the header's width, not yet judged
        (campaigns/list_pass.py reads the numbers of many at once in other processes)."""
        records = self._table.records()
        next(records, None)  # the header
        for idx, (line, cells) in enumerate(records):
            yield idx, self._fit(idx, line, cells)

    def judge(self) -> RowJudge:
        """A judge for one pass over the rows, in order (it remembers the numbers seen)."""
        return RowJudge(self.keys, self._columns, PhoneReader(self._region), self._suppressed)

    def _fit(self, idx: int, line: int, cells: list[str]) -> list[str]:
        width = len(self.headers)
        if len(cells) < width:
            return cells + [""] * (width - len(cells))
        if len(cells) > width and not _is_blank(cells[width:]):
            where = f"row {idx + 2}" + (f" (line {line} of the file)" if line != idx + 2 else "")
            raise InputError(
                f"{self.path}: {where} has {len(cells)} cells but the header has {width} "
                "columns: quote cells that hold the delimiter, or give the extra column a header."
            )
        return cells[:width]

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        with self.path.open("rb") as file:
            while chunk := file.read(_CHUNK_BYTES):
                digest.update(chunk)
        return digest.hexdigest()


class RowJudge:
    """Decides one pass's rows; holds that pass's index of numbers already seen."""

    def __init__(
        self, keys: list[str], columns: _Columns, phones: PhoneReader, suppressed: frozenset[str]
    ) -> None:
        self._keys = keys
        self._columns = columns
        self._phones = phones
        self._suppressed = suppressed
        self._first_row_by_number: dict[str, int] = {}
        self._zone_is_known: dict[str, bool] = {}

    def judge(self, idx: int, cells: list[str], reading: PhoneReading | None = None) -> NewRow:
        """Row `idx`; `reading` is its phone cell already read (by another process), if so."""
        if reading is None:
            reading = self._phones.read(cells[self._columns.phone])
        variables = {self._keys[i]: cells[i] for i in self._columns.variables if cells[i]}
        status, zones, error = self._status(idx, reading, cells)
        return NewRow(idx, cells, reading.e164, status, variables, zones, error)

    def _status(
        self, idx: int, reading: PhoneReading, cells: list[str]
    ) -> tuple[RowStatus, tuple[str, ...], str]:
        if not reading.is_valid:
            return RowStatus.INVALID, (), reading.error
        zones = reading.zones
        if self._columns.timezone is not None and (zone := cells[self._columns.timezone].strip()):
            if not self._known_zone(zone):
                return RowStatus.INVALID, (), f"unknown time zone {zone!r}"
            zones = (zone,)
        if reading.e164 in self._suppressed:
            return RowStatus.SUPPRESSED, zones, "on the suppression list"
        first = self._first_row_by_number.setdefault(reading.e164, idx)
        if first != idx:
            return RowStatus.DUPLICATE, zones, f"same number as row {first + 2}"
        return RowStatus.PENDING, zones, ""

    def _known_zone(self, zone: str) -> bool:
        if zone not in self._zone_is_known:
            try:
                ZoneInfo(zone)
                self._zone_is_known[zone] = True
            except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
                self._zone_is_known[zone] = False
        return self._zone_is_known[zone]


def open_contact_list(path: Path, options: ListOptions) -> ContactList:
    """Check everything that can be checked before reading the rows; raise InputError."""
    phones = PhoneReader(options.region)  # checks --region first: it is not about the file
    table = open_table(path, "contact list")
    records = table.records()
    header = next(records, None)
    if header is None:
        raise InputError(f"contact list {path} is empty: it needs a header row and data rows.")
    if next(records, None) is None:
        raise InputError(f"contact list {path} has a header row but no data rows.")
    records.close()
    headers = header[1]
    columns = _find_columns(path, headers, options)
    suppressed = frozenset[str]()
    if options.suppress is not None:
        suppressed = _read_suppression(options.suppress, phones)
    return ContactList(table, headers, columns, phones.region, suppressed)


def _find_columns(path: Path, headers: list[str], options: ListOptions) -> _Columns:
    keys = unique_keys(headers)
    if options.phone_column is not None:
        phone = _column(path, headers, keys, options.phone_column, "--phone-column")
    else:
        found = find_phone_column(headers)
        if found is None:
            raise InputError(
                f"contact list {path} has no phone column (headers: {_listing(headers)}): "
                f"name the column that holds the numbers with {PHONE_COLUMN_HINT}."
            )
        phone = found
    if options.variables is None:
        variables = tuple(i for i in range(len(headers)) if i != phone)
    else:
        variables = tuple(
            _column(path, headers, keys, name, "--variables") for name in options.variables
        )
    timezone = None
    if options.timezone_column is not None:
        timezone = _column(path, headers, keys, options.timezone_column, "--timezone-column")
    return _Columns(phone, variables, timezone)


def _column(path: Path, headers: list[str], keys: list[str], name: str, option: str) -> int:
    """The column called `name`: as written or made unique, ignoring padding, then case."""
    wanted = name.strip()
    for match in (str, str.casefold):
        hits = [i for i, key in enumerate(keys) if match(key) == match(wanted)]
        hits = hits or [i for i, h in enumerate(headers) if match(h.strip()) == match(wanted)]
        if hits:
            return hits[0]
    raise InputError(
        f"{option} {name!r}: contact list {path} has no such column; "
        f"its headers are {_listing(headers)}."
    )


def _listing(headers: Sequence[str]) -> str:
    shown = ", ".join(repr(h.strip()) for h in headers[:_SHOWN_HEADERS])
    return shown + (", ..." if len(headers) > _SHOWN_HEADERS else "")


def _read_suppression(path: Path, phones: PhoneReader) -> frozenset[str]:
    table = open_table(path, "suppression list (--suppress)", allow_empty=True)
    records = (cells for _, cells in table.records())
    return suppressed_numbers(path, records, phones)
