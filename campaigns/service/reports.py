"""A campaign's outcome report, written from the store (on any machine that reaches it)."""

from __future__ import annotations

from pathlib import Path

from campaigns.report.attempts import ATTEMPT_COLUMNS, attempt_lines
from campaigns.report.records import StoredReport
from campaigns.report.summary_sheet import ReportInfo
from campaigns.report.writer import write_report
from campaigns.store.rows import RowStore
from dialer.errors import CampaignNotFound


def write_campaign_report(
    store: RowStore, campaign_id: str, report: Path, *, csv_raw: bool = False
) -> dict[str, int]:
    meta = store.get_campaign(campaign_id)
    if meta is None:
        raise CampaignNotFound(f"No campaign {campaign_id} in the store.")
    rows = StoredReport(store, campaign_id, meta.state, meta.reason)
    attempts = (list(ATTEMPT_COLUMNS), attempt_lines(store, meta))  # the XLSX's Attempts sheet
    return write_report(
        report, meta.headers, rows, ReportInfo.from_meta(meta), csv_raw=csv_raw, attempts=attempts
    )
