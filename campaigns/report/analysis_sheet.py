"""The `Analysis` sheet: the figures of campaigns/report/analysis.py laid out in an XLSX workbook,
top to bottom (the report's workbook is in constant_memory mode), each table with a chart.

Sections: talk time (h:mm:ss), answer rate by the recipient's local hour and by weekday, by
attempt number, by time zone and by country; for an export (rows with a run date) also rows by
run date x status and the answer rate per day. `write_analysis_workbook` writes the sheet alone
(`dialer report CAMPAIGN --analysis PATH`), whole or not at all.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from campaigns.report.analysis import (
    answer_rates,
    answer_rates_by_attempt,
    answer_rates_by_weekday,
    hms,
    rows_by_day_and_status,
    talk_time_s,
)
from dialer.errors import InputError

SHEET_NAME = "Analysis"
_DAY_S = 86_400
_CHART_COLUMN = 5  # charts sit right of the tables (column F, or further for wide ones)
_CHART_ROWS = 16  # rows a chart covers at the scale used


@dataclass(frozen=True)
class _Formats:
    bold: Format
    percent: Format
    duration: Format
    note: Format

    @classmethod
    def of(cls, workbook: Workbook) -> _Formats:
        return cls(
            bold=workbook.add_format({"bold": True}),
            percent=workbook.add_format({"num_format": "0.0%"}),
            duration=workbook.add_format({"num_format": "[h]:mm:ss"}),
            note=workbook.add_format({"italic": True, "font_color": "#555555"}),
        )


def write_analysis_sheet(workbook: Workbook, frame: pd.DataFrame) -> None:
    """Add the `Analysis` sheet for the outcome table `frame` to `workbook`."""
    sheet = workbook.add_worksheet(SHEET_NAME)
    formats = _Formats.of(workbook)
    sheet.set_landscape()  # printed (or made a PDF), tables and charts side by side
    sheet.fit_to_pages(1, 0)
    sheet.set_column(0, 0, 26)
    sheet.set_column(1, 5, 12)
    sheet.write_string(0, 0, "Analysis", formats.bold)
    sheet.write_string(
        1,
        0,
        "answer rate = answered / calls that reached a final status; the local hour and weekday "
        "are the recipient's, at the row's last call",
        formats.note,
    )
    row = _write_talk_time(sheet, 3, frame, formats)
    layout = _Layout(workbook, sheet, formats, row)
    if frame["run_date"].ne("").any():
        layout.table("Rows by run date and status", rows_by_day_and_status(frame), chart="stacked")
        layout.table("Answer rate per day", answer_rates(frame, "run_date"), chart="line")
    hours = answer_rates(frame, "local_hour")
    hours.index = pd.Index([f"{int(h):02d}:00" for h in hours.index], name="local hour")
    layout.table("Answer rate by local hour", hours, chart="column")
    layout.table("Answer rate by weekday", answer_rates_by_weekday(frame), chart="column")
    layout.table("Answer rate by attempt", answer_rates_by_attempt(frame), chart="column")
    layout.table("Answer rate by time zone", answer_rates(frame, "zone"), chart="bar")
    layout.table("Answer rate by country", answer_rates(frame, "country"), chart="bar")


def write_analysis_workbook(path: Path, frame: pd.DataFrame) -> None:
    """A workbook with the Analysis sheet alone, at `path` (.xlsx), whole or not at all."""
    if path.suffix.lower() != ".xlsx":
        raise InputError(f"--analysis {path}: the analysis is a workbook: end the path in .xlsx.")
    if path.is_dir():
        raise InputError(f"--analysis {path}: that is a folder: give a file path ending in .xlsx.")
    directory = path.parent if str(path.parent) else Path(".")
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            workbook = xlsxwriter.Workbook(out, {"strings_to_formulas": False})
            write_analysis_sheet(workbook, frame)
            workbook.close()
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise


def _write_talk_time(sheet: Worksheet, row: int, frame: pd.DataFrame, formats: _Formats) -> int:
    total_s, average_s = talk_time_s(frame)
    answered = int(frame["answered"].sum())
    sheet.write_string(row, 0, "Talk time", formats.bold)
    sheet.write_string(row + 1, 0, "Answered calls")
    sheet.write_number(row + 1, 1, answered)
    sheet.write_string(row + 2, 0, "Total talk time (h:mm:ss)")
    sheet.write_number(row + 2, 1, total_s / _DAY_S, formats.duration)
    sheet.write_string(row + 3, 0, "Average talk time (h:mm:ss)")
    if average_s is None:
        sheet.write_string(row + 3, 1, "no completed call with a duration")
    else:
        sheet.write_number(row + 3, 1, average_s / _DAY_S, formats.duration)
    sheet.write_string(row + 4, 0, f"total {hms(total_s)}", formats.note)
    return row + 6


@dataclass
class _Layout:
    workbook: Workbook
    sheet: Worksheet
    formats: _Formats
    row: int  # the next free row

    def table(self, title: str, table: pd.DataFrame, *, chart: str) -> None:
        """Write `table` (index first) under `title`, then a chart of it beside it."""
        sheet, top = self.sheet, self.row
        sheet.write_string(top, 0, title, self.formats.bold)
        header = top + 1
        sheet.write_string(header, 0, str(table.index.name or ""), self.formats.bold)
        for col, name in enumerate(table.columns, start=1):
            label = "answer rate" if name == "answer_rate" else str(name)
            sheet.write_string(header, col, label, self.formats.bold)
        if table.empty:
            sheet.write_string(header + 1, 0, "no call reached a final status", self.formats.note)
            self.row = header + 3
            return
        for offset, (key, values) in enumerate(table.iterrows(), start=1):
            sheet.write_string(header + offset, 0, _label(key))
            for col, name in enumerate(table.columns, start=1):
                cell = self.formats.percent if name == "answer_rate" else None
                value = float(values[name])
                if value == value:  # NaN: nothing to show
                    sheet.write_number(header + offset, col, value, cell)
        last = header + len(table)
        self._chart(title, table, chart, header, last)
        self.row = max(last + 2, top + (_CHART_ROWS if chart else 0))

    def _chart(self, title: str, table: pd.DataFrame, kind: str, header: int, last: int) -> None:
        stacked = kind == "stacked"
        options = {"type": "column", "subtype": "stacked"} if stacked else {"type": kind}
        chart = self.workbook.add_chart(options)
        if chart is None:
            return
        name = self.sheet.get_name()
        columns = range(1, len(table.columns) + 1) if stacked else [len(table.columns)]
        for col in columns:
            chart.add_series(
                {
                    "name": [name, header, col],
                    "categories": [name, header + 1, 0, last, 0],
                    "values": [name, header + 1, col, last, col],
                }
            )
        chart.set_title({"name": title})
        if not stacked:
            chart.set_legend({"none": True})
            axis = chart.set_x_axis if kind == "bar" else chart.set_y_axis
            axis({"num_format": "0%", "min": 0, "max": 1})
        column = max(_CHART_COLUMN, len(table.columns) + 2)  # one empty column after the table
        self.sheet.insert_chart(header - 1, column, chart, {"x_scale": 1.2, "y_scale": 1.0})


def _label(key: object) -> str:
    text = str(key)
    return text if text else "(unknown)"
