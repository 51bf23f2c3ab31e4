"""The outcome report: one row per input data row, as CSV or XLSX, written whole or not at all.

Columns (CONTRACT.md, "The outcome report"): the input's own cells, unchanged and as text, then
`RESULT_COLUMNS`. The format follows the path's extension (`.csv`, `.xlsx`, any case).

- CSV (campaigns/report_csv.py): UTF-8 with a BOM, RFC 4180 quoting, `\\r\\n` line endings.
  Cells are written as read, except that a cell a spreadsheet would take for a formula
  (`=1+2`, `@SUM(A1)`, from the input or the API) gets a `'` in front, which makes it text;
  numbers and phone numbers are left as they are. `csv_raw` writes every cell exactly as read.
- XLSX (XlsxWriter, constant_memory: memory stays flat whatever the row count): sheet
  `Outcomes` with the rows (header frozen, autofilter), every input or API cell stored as a
  string (never a formula, number or link); `attempts` is a number. Sheet `Summary` second:
  counts by status, answer rate, talk time, the campaign, a chart. Rows beyond what a sheet
  holds continue on `Outcomes 2`, `Outcomes 3`..., placed after `Summary` (the row count is
  unknown until the rows are streamed, and Summary must stay second); Summary says so.
  A cell longer than Excel's 32,767 characters is cut there (Excel cannot hold more).

Whole or nothing: the report is written to a hidden temporary file beside the target, flushed
and fsynced, then `os.replace`d over it; on any error the temporary file is removed and an older
report at the path is untouched. A writer killed outright leaves its `.<name>.<random>.tmp`
behind, never a torn report.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import re
import secrets
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Literal

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from campaigns.report_csv import CsvBatches, write_csv, write_csv_batches
from campaigns.store import CampaignMeta, CampaignState, NewRow, Row, RowStatus
from campaigns.summary import SummaryCounter
from dialer.errors import DialerError, InputError

RESULT_COLUMNS: tuple[str, ...] = (
    "to_number",
    "status",
    "outcome",
    "call_id",
    "duration",
    "attempts",
    "started_at",
    "completed_at",
    "recording",
    "transcript",
    "error",
)

REPORT_EXTENSIONS: tuple[str, ...] = (".csv", ".xlsx")
XLSX_MAX_ROWS = 1_048_576  # Excel's rows per sheet, the header row included
XLSX_MAX_COLUMNS = 16_384
XLSX_MAX_CELL_UTF16_UNITS = 32_767  # Excel's longest cell text (counted in UTF-16 units)

_WIDTH_SAMPLE_ROWS = 200  # column widths come from the header and this many first rows
_MIN_COLUMN_WIDTH_CHARS = 8
_MAX_COLUMN_WIDTH_CHARS = 50
_ATTEMPTS_OFFSET = RESULT_COLUMNS.index("attempts")

# What an inline XLSX string must escape: XML's specials, control characters, text that
# already reads `_xHHHH_`, and the two non-characters.
_XML_TEXT_SPECIALS = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_LITERAL_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL_CHAR = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not \t \n \r

_STOPPED_BEFORE_CONFIRMED = "the run stopped before this call could be confirmed"
# By campaign state (compared as text: `stopping` exists only in newer stores).
_CALLING_STATES = frozenset({"running"})  # pending rows may still be called
_FOLLOWING_STATES = frozenset({"running", "stopping"})  # dialing rows are still being confirmed
_NOT_CALLED_BECAUSE = {
    "stopping": "the run is stopping: this row will not be called",
    "stopped": "the run was stopped before this row was called",
    "finished": "the row's calling window did not open before the run ended",
    "failed": "the run stopped on an error before this row was called",
}


class ReportWriteError(DialerError):
    """The report could not be written at its path (exit 1); an older report there is kept."""


@dataclass(frozen=True)
class ReportRow:
    cells: list[str]  # the input's cells, exactly as read
    to_number: str
    status: str
    outcome: str
    call_id: str
    duration: str
    attempts: int
    started_at: str
    completed_at: str
    recording: str
    transcript: str
    error: str
    # Not columns of the report: what the Analysis sheet needs (campaigns/analysis.py).
    zones: tuple[str, ...] = ()  # the zones the number may ring in
    called_at_s: float = 0.0  # epoch s of the last call's POST; 0 when never called


@dataclass(frozen=True)
class ReportInfo:
    """What the Summary sheet says about the campaign; times are epoch seconds."""

    campaign_id: str
    agent_id: str
    source: str
    state: str
    started_at: float | None
    ended_at: float | None

    @classmethod
    def from_meta(cls, meta: CampaignMeta) -> ReportInfo:
        """The store keeps 0.0 for a time not reached yet: that is None here."""
        return cls(
            campaign_id=meta.campaign_id,
            agent_id=meta.agent_id,
            source=meta.source,
            state=str(meta.state),
            started_at=meta.started_at or None,
            ended_at=meta.ended_at or None,
        )


def report_rows(rows: Iterable[Row], state: CampaignState, reason: str = "") -> Iterator[ReportRow]:
    """The store's rows as report rows, in the order given (the store streams input order).

    A final row shows its status. Rows not final show where they stand:
    - pending: `pending` while the campaign runs; once it is stopping, stopped, finished or
      failed, `not_called`, with the row's own error (e.g. why its window stayed shut) or,
      when it has none, why the run left it (`reason`, the campaign's, when given).
    - dialing: `dialing` while calls are still followed (running, stopping). A campaign ends
      only with nothing in flight, except one that failed (a refused key) or was cut short:
      those rows are `unknown` (a call may exist, it was never confirmed), saying so.
    - active: the API's live status (`ringing`, `in_progress`...), `queued` when not polled yet,
      whatever the campaign's state (the call exists and is going on).
    """
    state_text = str(state)
    for row in rows:
        status, error = _where_it_stands(row, state_text, reason)
        yield ReportRow(
            cells=row.cells,
            to_number=row.to_number,
            status=status,
            outcome=row.outcome,
            call_id=row.call_id,
            duration=row.duration,
            attempts=row.attempts,
            started_at=row.started_at,
            completed_at=row.completed_at,
            recording=row.recording,
            transcript=row.transcript,
            error=error,
            zones=row.zones,
            called_at_s=row.intent_at,
        )


_API_FINAL = frozenset({"completed", "failed", "no_answer", "busy"})
_REDIAL_NOT_MADE = "the run ended before the redial this status allowed"
_STILL_LIVE = "the call was still live when the run stopped: resume the run to follow it"


def _where_it_stands(row: Row, state: str, reason: str = "") -> tuple[str, str]:
    """(status, error) for the report; see `report_rows`."""
    if row.status == RowStatus.PENDING:
        if state in _CALLING_STATES:
            return "pending", row.error
        if row.attempts and row.live_status in _API_FINAL:  # a redial the run never made
            return row.live_status, row.error or _REDIAL_NOT_MADE
        reason = reason or _NOT_CALLED_BECAUSE.get(
            state, "the run ended before this row was called"
        )
        return "not_called", row.error or reason
    if row.status == RowStatus.DIALING:
        if state in _FOLLOWING_STATES:
            return "dialing", row.error
        return "unknown", row.error or _STOPPED_BEFORE_CONFIRMED
    if row.status == RowStatus.ACTIVE:
        if state in _FOLLOWING_STATES:
            return row.live_status or "queued", row.error
        return "unknown", row.error or _STILL_LIVE
    return str(row.status), row.error


def dry_run_rows(rows: Iterable[NewRow]) -> Iterator[ReportRow]:
    """The loader's rows as a dry run's report: callable rows are `ready`, others as loaded."""
    for row in rows:
        status = "ready" if row.status == RowStatus.PENDING else str(row.status)
        yield ReportRow(
            cells=row.cells,
            to_number=row.to_number,
            status=status,
            outcome="",
            call_id="",
            duration="",
            attempts=0,
            started_at="",
            completed_at="",
            recording="",
            transcript="",
            error=row.error,
        )


def check_report_path(path: Path) -> None:
    """Fail early, before any call is made, on a report path that cannot be one."""
    _report_format(path)
    if path.is_dir():
        raise InputError(
            f"--report {path}: that is a folder. Give a file path ending in .csv or .xlsx."
        )


def _report_format(path: Path) -> Literal["csv", "xlsx"]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix == ".xlsx":
        return "xlsx"
    raise InputError(
        f"--report {path}: the report is written as .csv or .xlsx, chosen by the extension; "
        f"give a path ending in one of {', '.join(REPORT_EXTENSIONS)}."
    )


def write_report(
    path: Path,
    headers: list[str],
    rows: Iterable[ReportRow],
    info: ReportInfo,
    *,
    max_rows_per_sheet: int = XLSX_MAX_ROWS,
    csv_raw: bool = False,
    attempts: Attempts | None = None,
) -> dict[str, int]:
    """Write the report at `path`, whole or not at all; return the rows by status.

    The counts hold every contract status (zero included, in the contract's order), then any
    mid-run status seen. `rows` is consumed once, streamed. `max_rows_per_sheet` (XLSX only,
    header included) is Excel's limit; tests lower it. `csv_raw` (CSV only) writes cells
    exactly as read, formula-looking ones included (`--csv-raw`). `attempts` (XLSX only): the
    attempt log's header and lines (campaigns.attempts), the `Attempts` sheet after `Analysis`.
    """
    report_format = _report_format(path)
    if not 2 <= max_rows_per_sheet <= XLSX_MAX_ROWS:
        raise ValueError(f"max_rows_per_sheet must be within 2..{XLSX_MAX_ROWS}")
    if report_format == "xlsx" and len(headers) + len(RESULT_COLUMNS) > XLSX_MAX_COLUMNS:
        raise InputError(
            f"--report {path}: the input has {len(headers)} columns, more than an .xlsx sheet "
            f"holds with the {len(RESULT_COLUMNS)} result columns; write a .csv report instead."
        )
    counter = SummaryCounter()
    try:
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "a folder has that name", str(path))
        with _atomic_output(path) as out:
            if report_format == "csv":
                _write_csv(out, headers, rows, counter, raw=csv_raw)
            else:
                _write_xlsx(out, headers, rows, info, counter, max_rows_per_sheet, attempts)
    except OSError as exc:
        raise ReportWriteError(_write_failure_message(path, exc, info.campaign_id)) from exc
    return counter.counts()


def _write_failure_message(path: Path, exc: OSError, campaign_id: str) -> str:
    again = f"run `dialer report {campaign_id} --out {path}`" if campaign_id else "run it again"
    if isinstance(exc, IsADirectoryError):
        return (
            f"cannot write the report {path}: a folder has that name. "
            f"Choose a file path ending in .csv or .xlsx, then {again}."
        )
    if isinstance(exc, PermissionError):
        return (
            f"cannot write the report {path}: permission denied. If it is open in Excel or "
            f"another program, close it; otherwise make its folder writable or choose another "
            f"path. Then {again}. Any older report there is unchanged."
        )
    reason = exc.strerror or str(exc)
    return (
        f"cannot write the report {path}: {reason}. Fix that (free disk space, choose another "
        f"path), then {again}. Any older report there is unchanged."
    )


# --- whole or nothing ---


@contextlib.contextmanager
def _atomic_output(path: Path) -> Iterator[IO[bytes]]:
    """A binary file that becomes `path` only if the block completes without an error."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp_path = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    # O_EXCL: never write through a file (or link) someone else put there; 0o600: a report
    # holds names and numbers, readable by its owner alone.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(temp_path, flags, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp_path, path)
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX; Windows has no such call). Best effort: the
    report is already in place, and some file systems refuse to sync a folder."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --- CSV ---


def _write_csv(
    out: IO[bytes],
    headers: list[str],
    rows: Iterable[ReportRow],
    counter: SummaryCounter,
    *,
    raw: bool,
) -> None:
    header = [*headers, *RESULT_COLUMNS]
    if isinstance(rows, CsvBatches):  # a stored campaign: its records read directly
        write_csv_batches(out, header, rows.csv_batches(len(headers), counter), raw=raw)
        return
    write_csv(out, header, _counted_records(rows, len(headers), counter), raw=raw)


def _counted_records(
    rows: Iterable[ReportRow], width: int, counter: SummaryCounter
) -> Iterator[list[str]]:
    add = counter.add  # bound once: this runs a million times
    for row in rows:
        add(row.status, row.duration)
        yield _record(row, width)


def _record(row: ReportRow, width: int) -> list[str]:
    """A report line as text. Cells are padded (or cut) to the header's width so the result
    columns always sit under their names; the loader keeps rows to that width."""
    cells = row.cells
    if len(cells) != width:
        cells = (cells + [""] * (width - len(cells)))[:width]
    return [
        *cells,
        row.to_number,
        row.status,
        row.outcome,
        row.call_id,
        row.duration,
        str(row.attempts),
        row.started_at,
        row.completed_at,
        row.recording,
        row.transcript,
        row.error,
    ]


# --- XLSX ---


def _write_xlsx(
    out: IO[bytes],
    headers: list[str],
    rows: Iterable[ReportRow],
    info: ReportInfo,
    counter: SummaryCounter,
    max_rows_per_sheet: int,
    attempts: Attempts | None = None,
) -> None:
    # A private scratch folder for XlsxWriter's row files, removed even when writing fails.
    with tempfile.TemporaryDirectory(
        prefix="dialer-report-", ignore_cleanup_errors=True
    ) as scratch_dir:
        workbook = xlsxwriter.Workbook(
            out,
            {
                "constant_memory": True,
                "tmpdir": scratch_dir,
                # Cells are written as strings explicitly anyway; these make sure nothing
                # ever turns text into a formula, link or number behind our back.
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        # pandas is imported only when a workbook is written: it would slow every CLI start.
        from campaigns.analysis import OutcomeCollector
        from campaigns.analysis_sheet import write_analysis_sheet

        analysis = OutcomeCollector(headers)  # keeps what the Analysis sheet needs
        layout = _OutcomesLayout.start(
            workbook, headers, analysis.observe(rows), max_rows_per_sheet
        )
        summary_sheet = workbook.add_worksheet("Summary")
        sheet_names = layout.write_rows(counter)
        _write_summary(workbook, summary_sheet, info, counter, sheet_names, layout)
        write_analysis_sheet(workbook, analysis.frame())
        if attempts is not None:
            _write_text_sheet(workbook, "Attempts", *attempts)
        workbook.close()


# --- the attempt log (campaigns.attempts): a sheet of the report, or a file of its own ---

Attempts = tuple[list[str], Iterable[list[str]]]  # header, lines


def _write_text_sheet(
    workbook: Workbook,
    name: str,
    header: list[str],
    lines: Iterable[list[str]],
    max_rows: int = XLSX_MAX_ROWS,
) -> int:
    """A sheet of text cells (never a formula) under a bold header; return its lines."""
    sheet = workbook.add_worksheet(name, worksheet_class=_TextWorksheet)
    for col, width in enumerate(_column_widths(header, [])):
        sheet.set_column(col, col, max(width, 16))
    sheet.write_text_row(0, header, cell_format=workbook.add_format({"bold": True}))
    sheet.freeze_panes(1, 0)
    count = 0
    for count, line in enumerate(lines, start=1):
        if count >= max_rows - 1:  # the sheet is full: say so rather than lose lines
            note = f"{name} goes on past what a sheet holds: write it as .csv for every line."
            sheet.write_text_row(count, [note])
            return count - 1
        sheet.write_text_row(count, line)
    return count


def write_text_table(
    path: Path,
    sheet: str,
    header: list[str],
    lines: Iterable[list[str]],
    max_rows_per_sheet: int = XLSX_MAX_ROWS,
) -> int:
    """`header` and `lines` as a .csv (no live formula) or an .xlsx sheet of text, whole or
    not at all; return how many lines were written."""
    report_format = _report_format(path)
    counted = [0]

    def counting() -> Iterator[list[str]]:
        for line in lines:
            counted[0] += 1
            yield line

    try:
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "a folder has that name", str(path))
        with _atomic_output(path) as out:
            if report_format == "csv":
                write_csv(out, header, counting())
            else:
                with tempfile.TemporaryDirectory(
                    prefix="dialer-report-", ignore_cleanup_errors=True
                ) as scratch_dir:
                    workbook = xlsxwriter.Workbook(
                        out,
                        {
                            "constant_memory": True,  # _TextWorksheet streams its rows
                            "tmpdir": scratch_dir,
                            "strings_to_formulas": False,
                            "strings_to_urls": False,
                            "strings_to_numbers": False,
                        },
                    )
                    counted[0] = _write_text_sheet(
                        workbook, sheet, header, lines, max_rows_per_sheet
                    )
                    workbook.close()
    except OSError as exc:
        raise ReportWriteError(f"--out {path}: cannot write there ({exc.strerror}).") from exc
    return counted[0]


@dataclass
class _OutcomesLayout:
    """The Outcomes sheets: their header, widths, and the rows still to write."""

    workbook: Workbook
    column_names: list[str]
    widths_chars: list[int]
    input_width: int
    rows: Iterator[ReportRow]
    first_sheet: _TextWorksheet
    header_format: Format
    max_rows_per_sheet: int

    @classmethod
    def start(
        cls,
        workbook: Workbook,
        headers: list[str],
        rows: Iterable[ReportRow],
        max_rows_per_sheet: int,
    ) -> _OutcomesLayout:
        """Create the first sheet (so it comes first) with widths from the first rows."""
        column_names = [*headers, *RESULT_COLUMNS]
        row_iter = iter(rows)
        sample = list(itertools.islice(row_iter, _WIDTH_SAMPLE_ROWS))
        widths = _column_widths(column_names, (_record(row, len(headers)) for row in sample))
        header_format = workbook.add_format({"bold": True})
        layout = cls(
            workbook=workbook,
            column_names=column_names,
            widths_chars=widths,
            input_width=len(headers),
            rows=itertools.chain(sample, row_iter),
            first_sheet=workbook.add_worksheet("Outcomes", worksheet_class=_TextWorksheet),
            header_format=header_format,
            max_rows_per_sheet=max_rows_per_sheet,
        )
        layout._prepare(layout.first_sheet)
        return layout

    def _prepare(self, sheet: _TextWorksheet) -> None:
        for col, width in enumerate(self.widths_chars):
            sheet.set_column(col, col, width)
        sheet.write_text_row(0, self.column_names, cell_format=self.header_format)
        sheet.freeze_panes(1, 0)

    def write_rows(self, counter: SummaryCounter) -> list[str]:
        """Stream every row into the sheets; return the sheets' names in order."""
        sheet = self.first_sheet
        names = [sheet.get_name()]
        last_row = 0  # the header
        rows_per_sheet = self.max_rows_per_sheet - 1
        attempts_col = self.input_width + _ATTEMPTS_OFFSET
        for row in self.rows:
            if last_row == rows_per_sheet:
                self._finish(sheet, last_row)
                sheet = self.workbook.add_worksheet(
                    f"Outcomes {len(names) + 1}", worksheet_class=_TextWorksheet
                )
                names.append(sheet.get_name())
                self._prepare(sheet)
                last_row = 0
            last_row += 1
            counter.add(row.status, row.duration)
            sheet.write_text_row(
                last_row, _record(row, self.input_width), attempts_col, row.attempts
            )
        self._finish(sheet, last_row)
        return names

    def _finish(self, sheet: _TextWorksheet, last_row: int) -> None:
        sheet.autofilter(0, 0, last_row, len(self.column_names) - 1)


class _TextWorksheet(Worksheet):  # type: ignore[misc]  # XlsxWriter ships no type stubs
    """A constant_memory worksheet that writes a whole row of text in one piece.

    XlsxWriter's per-cell path (a call, a check and a tuple per cell, then XML per cell) is
    too slow for a million rows on a small machine, and in constant_memory mode it writes a
    string that looks like `<r>...</r>` as raw rich-text XML: an input cell could vanish or
    break the file. `write_text_row` escapes every string. It relies on XlsxWriter internals
    (pinned <3.4 in pyproject; tests read every cell back with openpyxl).
    """

    def __init__(self) -> None:
        super().__init__()
        self._column_letters: list[str] = []  # "A", "B"...: built once, not per cell

    def write_text_row(
        self,
        row_num: int,
        texts: list[str],
        number_col: int = -1,
        number: float = 0,
        cell_format: Format | None = None,
    ) -> None:
        """Write `texts` as string cells (empty ones left out) and `number` at `number_col`,
        on a row below every row written so far."""
        # Same bookkeeping as write_string: sheet dimensions, then flush a pending row.
        self._check_dimensions(row_num, 0)
        self._check_dimensions(row_num, len(texts) - 1)
        if row_num > self.previous_row:
            self._write_single_row(row_num)
        style = f' s="{cell_format._get_xf_index()}"' if cell_format is not None else ""
        letters = self._column_letters
        while len(letters) < len(texts):
            letters.append(xl_col_to_name(len(letters)))
        row_ref = row_num + 1
        # Nearly every row needs no escaping and no cut: tested once for the whole row (in C).
        plain = (
            max(map(len, texts), default=0) <= XLSX_MAX_CELL_UTF16_UNITS // 2
            and _XML_TEXT_SPECIALS.search("".join(texts)) is None
        )
        parts = []
        for col, text in enumerate(texts):
            ref = f"{letters[col]}{row_ref}"
            if col == number_col:
                parts.append(f'<c r="{ref}"{style}><v>{number:.16G}</v></c>')
            elif not text:
                continue
            elif plain:  # _inline_text_xml's result, without its checks
                space = ' xml:space="preserve"' if text.strip() != text else ""
                parts.append(f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{text}</t></is></c>')
            else:
                parts.append(f'<c r="{ref}"{style} t="inlineStr">{_inline_text_xml(text)}</c>')
        self.fh.write(f'<row r="{row_ref}">{"".join(parts)}</row>')


def _inline_text_xml(text: str) -> str:
    # A text under half the limit cannot exceed it: skip the costly count for nearly all.
    if len(text) > XLSX_MAX_CELL_UTF16_UNITS // 2:
        text = _cut_to_cell_limit(text)
    # Excel trims surrounding spaces unless told to keep them.
    keep_spaces = text[:1].isspace() or text[-1:].isspace()
    if _XML_TEXT_SPECIALS.search(text):
        text = _escape_xml_text(text)
    if keep_spaces:
        return f'<is><t xml:space="preserve">{text}</t></is>'
    return f"<is><t>{text}</t></is>"


def _cut_to_cell_limit(text: str) -> str:
    """Cut a text Excel would refuse (a long transcript) to the longest it accepts."""
    utf16 = text.encode("utf-16-le")
    if len(utf16) <= 2 * XLSX_MAX_CELL_UTF16_UNITS:
        return text
    # "ignore" drops half of a surrogate pair left at the cut.
    return utf16[: 2 * XLSX_MAX_CELL_UTF16_UNITS].decode("utf-16-le", errors="ignore")


def _escape_xml_text(text: str) -> str:
    """Escape as Excel does: `_xHHHH_` literals get their `_` escaped, control characters
    XML cannot hold become `_xHHHH_`, and `&`, `<`, `>` become entities. A carriage return
    becomes `&#13;`, which XML keeps (a raw one is read back as a newline) and any reader
    understands, where `_x000D_` only means something to Excel."""
    text = _LITERAL_ESCAPE.sub(r"_x005F\1", text)
    text = _CONTROL_CHAR.sub(lambda match: f"_x{ord(match.group()):04X}_", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\r", "&#13;")


def _column_widths(column_names: list[str], sample: Iterable[list[str]]) -> list[int]:
    widths = [len(name) for name in column_names]
    for values in sample:
        for col, text in enumerate(values):
            # A multi-line cell is as wide as its longest line.
            longest = max((len(line) for line in text.split("\n")), default=0)
            widths[col] = max(widths[col], longest)
    return [
        min(max(width + 2, _MIN_COLUMN_WIDTH_CHARS), _MAX_COLUMN_WIDTH_CHARS) for width in widths
    ]


# --- XLSX: the Summary sheet ---


def _write_summary(
    workbook: Workbook,
    sheet: Worksheet,
    info: ReportInfo,
    counter: SummaryCounter,
    outcome_sheets: list[str],
    layout: _OutcomesLayout,
) -> None:
    """Fill `Summary` top to bottom (constant_memory drops a row written after a later one)."""
    bold = workbook.add_format({"bold": True})
    percent = workbook.add_format({"num_format": "0.0%"})
    seconds = workbook.add_format({"num_format": "0.0"})
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 1, 40)
    sheet.write_string(0, 0, "Campaign", bold)
    campaign_lines = [
        ("Campaign id", info.campaign_id),
        ("Agent", info.agent_id),
        ("Source", info.source),
        ("State", info.state),
        ("Started (UTC)", _iso_utc(info.started_at)),
        ("Ended (UTC)", _iso_utc(info.ended_at)),
    ]
    for row, (label, value) in enumerate(campaign_lines, start=1):
        sheet.write_string(row, 0, label)
        sheet.write_string(row, 1, value)
    status_header_row = len(campaign_lines) + 2
    last_status_row = _write_status_counts(sheet, status_header_row, counter, bold)
    row = last_status_row + 2
    row = _write_rates(sheet, row, counter, percent, seconds)
    _write_sheets_note(sheet, row + 1, outcome_sheets, layout.max_rows_per_sheet - 1)
    _insert_status_chart(workbook, sheet, status_header_row + 1, last_status_row)


def _write_status_counts(
    sheet: Worksheet, header_row: int, counter: SummaryCounter, bold: Format
) -> int:
    """The status table; returns the row of its last status (the Total follows it)."""
    sheet.write_string(header_row, 0, "Status", bold)
    sheet.write_string(header_row, 1, "Rows", bold)
    row = header_row
    for status, count in counter.counts().items():
        row += 1
        sheet.write_string(row, 0, status)
        sheet.write_number(row, 1, count)
    sheet.write_string(row + 1, 0, "Total", bold)
    sheet.write_number(row + 1, 1, counter.total_rows, bold)
    return row


def _write_rates(
    sheet: Worksheet, row: int, counter: SummaryCounter, percent: Format, seconds: Format
) -> int:
    """Answer rate and talk time from `row` down; returns the next free row."""
    sheet.write_string(row, 0, "Answer rate")
    rate = counter.answer_rate
    if rate is None:
        sheet.write_string(row, 1, "no call reached a final status")
    else:
        sheet.write_number(row, 1, rate, percent)
    sheet.write_string(row + 1, 0, "Total talk time (s)")
    sheet.write_number(row + 1, 1, counter.talk_time_s, seconds)
    sheet.write_string(row + 2, 0, "Average talk time (s)")
    average_s = counter.average_talk_time_s
    if average_s is None:
        sheet.write_string(row + 2, 1, "no completed call with a duration")
    else:
        sheet.write_number(row + 2, 1, average_s, seconds)
    sheet.write_string(
        row + 3,
        0,
        "answer rate = completed / (completed + failed + no_answer "
        "+ busy); talk time from completed calls' duration",
    )
    return row + 4


def _write_sheets_note(
    sheet: Worksheet, row: int, outcome_sheets: list[str], rows_per_sheet: int
) -> None:
    sheet.write_string(row, 0, "Outcome sheets")
    sheet.write_string(row, 1, ", ".join(outcome_sheets))
    if len(outcome_sheets) > 1:
        sheet.write_string(
            row + 1,
            0,
            f"More rows than one sheet holds: each sheet has up to {rows_per_sheet:,} rows "
            f"under its own header; {', '.join(outcome_sheets[1:])} come after this sheet.",
        )


def _insert_status_chart(
    workbook: Workbook, sheet: Worksheet, first_row: int, last_row: int
) -> None:
    chart = workbook.add_chart({"type": "column"})
    if chart is None:  # only for an unknown chart type
        return
    name = sheet.get_name()
    chart.add_series(
        {
            "name": "Rows by status",
            "categories": [name, first_row, 0, last_row, 0],
            "values": [name, first_row, 1, last_row, 1],
        }
    )
    chart.set_title({"name": "Rows by status"})
    chart.set_legend({"none": True})
    sheet.insert_chart(1, 3, chart, {"x_scale": 1.5, "y_scale": 1.5})


def _iso_utc(epoch_s: float | None) -> str:
    if epoch_s is None:
        return ""
    return datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
