"""The outcome report: one row per input data row, as CSV or XLSX, written whole or not at all.

Columns (CONTRACT.md, "The outcome report"): the input's own cells, unchanged and as text, then
`RESULT_COLUMNS`. The format follows the path's extension (`.csv`, `.xlsx`, any case).

- CSV (campaigns/report/csv_file.py): UTF-8 with a BOM, RFC 4180 quoting, `\\r\\n` line endings.
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

import errno
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from campaigns.report.csv_file import CsvBatches, write_csv, write_csv_batches
from campaigns.report.output import (
    ReportWriteError,
    _atomic_output,
    _report_format,
    _write_failure_message,
)
from campaigns.report.rows import RESULT_COLUMNS, ReportRow, _record
from campaigns.report.summary import SummaryCounter
from campaigns.report.summary_sheet import ReportInfo
from campaigns.report.workbook import XLSX_MAX_COLUMNS, XLSX_MAX_ROWS, Attempts, _write_xlsx
from dialer.errors import InputError


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
    attempt log's header and lines (campaigns.report.attempts), the `Attempts` sheet after
    `Analysis`.
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


# --- whole or nothing ---


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


# --- XLSX ---


# --- the attempt log (campaigns.report.attempts): a sheet of the report, or a file of its own ---


# --- XLSX: the Summary sheet ---
