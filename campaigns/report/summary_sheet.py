"""The XLSX report's Summary sheet: counts by status, rates, talk time, the campaign, a chart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from campaigns.report.summary import SummaryCounter
from campaigns.store.rows import (
    CampaignMeta,
)
from dialer.durations import iso_utc_text

if TYPE_CHECKING:
    from campaigns.report.workbook import _OutcomesLayout


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
    return iso_utc_text(epoch_s)
