"""The XLSX report's sheets: the Outcomes rows (text, constant memory) and plain text tables."""

from __future__ import annotations

import errno
import itertools
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from campaigns.report.csv_file import write_csv
from campaigns.report.output import (
    ReportWriteError,
    _atomic_output,
    _report_format,
)
from campaigns.report.rows import _ATTEMPTS_OFFSET, RESULT_COLUMNS, ReportRow, _record
from campaigns.report.summary import SummaryCounter
from campaigns.report.summary_sheet import ReportInfo, _write_summary

XLSX_MAX_ROWS = 1_048_576  # Excel's rows per sheet, the header row included


XLSX_MAX_COLUMNS = 16_384


XLSX_MAX_CELL_UTF16_UNITS = 32_767  # Excel's longest cell text (counted in UTF-16 units)


_WIDTH_SAMPLE_ROWS = 200  # column widths come from the header and this many first rows


_MIN_COLUMN_WIDTH_CHARS = 8


_MAX_COLUMN_WIDTH_CHARS = 50


# What an inline XLSX string must escape: XML's specials, control characters, text that
# already reads `_xHHHH_`, and the two non-characters.
_XML_TEXT_SPECIALS = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")


_LITERAL_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")


_CONTROL_CHAR = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not \t \n \r


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
        from campaigns.report.analysis import OutcomeCollector
        from campaigns.report.analysis_sheet import write_analysis_sheet

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
