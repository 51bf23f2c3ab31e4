"""The attempt log: one line per POST /calls attempt of a campaign, and why it was allowed.

Derived, not stored: the contact history (campaigns.store.history) already holds one entry per dial
intent, written in the same atomic step that begins the dial (`RowStore.begin_dial`), with its
time, campaign, number, status and call id. The row gives the recipient's zones and the last
error; the campaign's policy gives the window that allowed the call. So the log is exactly what
the store did, in both stores, with no second record that could disagree with the first.
With calling rules (`--rules`), each line names the rule that governs the number and the
window (with the rule's days) that `--window` and that rule allowed the call in.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from campaigns.dialing.calling_gate import window_text
from campaigns.dialing.rules import CallingRules, rule_names
from campaigns.dialing.rules_file import rules_from_json
from campaigns.dialing.windows import CallingWindow
from campaigns.report.workbook import write_text_table
from campaigns.store.history import HistoryEntry
from campaigns.store.rows import API_FINAL, CampaignMeta, Row, RowStatus, RowStore
from dialer.durations import iso_utc_text

ATTEMPT_COLUMNS = (
    "attempted_at_utc",
    "row",  # the data row's number in the input, 1 = the first row under the header
    "to_number",
    "zones",
    "local_time",
    "window",
    "rule",  # the calling rule (--rules) that governs the number; "" without a rules file
    "outcome",
    "call_id",
    "message",
)

# No number, or the number's calls belong to an earlier row.
_NEVER_DIALLED = (RowStatus.INVALID, RowStatus.DUPLICATE)


def campaign_window(meta: CampaignMeta) -> str:
    """The window that allowed the campaign's calls, as the user wrote it (`any`: none)."""
    policy = meta.settings.get("policy")
    window = policy.get("window", "") if isinstance(policy, dict) else ""
    return str(window or "08:00-21:00")


def campaign_rules(meta: CampaignMeta) -> CallingRules | None:
    """The calling rules stored with the campaign's policy, if it has any."""
    policy = meta.settings.get("policy")
    data = policy.get("rules") if isinstance(policy, dict) else None
    return rules_from_json(data) if isinstance(data, dict) and data else None


def attempt_lines(store: RowStore, meta: CampaignMeta, batch: int = 500) -> Iterator[list[str]]:
    """The campaign's attempts as text lines (ATTEMPT_COLUMNS), in input order, each row's
    attempts oldest first. The history is read `batch` rows at a time: bounded memory, and a
    round trip per batch rather than per row."""
    window, rules = campaign_window(meta), campaign_rules(meta)
    rows = (r for r in store.iter_rows(meta.campaign_id) if _may_have_dialled(r))
    while chunk := list(itertools.islice(rows, batch)):
        by_number: dict[str, list[HistoryEntry]] = {}
        numbers = list(dict.fromkeys(r.to_number for r in chunk))
        for entry in store.campaign_history(numbers, meta.campaign_id):
            by_number.setdefault(entry.number, []).append(entry)
        for row in chunk:
            mine = sorted(by_number.get(row.to_number, ()), key=lambda e: e.at)
            for n, entry in enumerate(mine):
                yield _line(row, entry, _allowed_by(row, window, rules), n == len(mine) - 1)


def _allowed_by(row: Row, window: str, rules: CallingRules | None) -> tuple[str, str]:
    """(window, rule) that allowed a row's calls: `--window` alone without a rules file."""
    if rules is None:
        return window, ""
    governing = rules.governing(row.to_number)
    return window_text(CallingWindow.parse(window), governing), rule_names(governing)


def _may_have_dialled(row: Row) -> bool:
    # A row whose only POST created nothing has 0 attempts, yet its POST is logged: so
    # attempts cannot tell; only rows without a number of their own never dialled.
    return bool(row.to_number) and row.status not in _NEVER_DIALLED


def _line(row: Row, entry: HistoryEntry, allowed_by: tuple[str, str], latest: bool) -> list[str]:
    at = datetime.fromtimestamp(entry.at, UTC)
    outcome, message = _outcome(row, entry, latest)
    return [
        iso_utc_text(entry.at),
        str(row.idx + 1),
        row.to_number,
        "; ".join(row.zones),
        "; ".join(local_time(at, zone) for zone in row.zones),
        *allowed_by,
        outcome,
        entry.call_id,
        message,
    ]


def local_time(at: datetime, zone: str) -> str:
    """`2026-12-01T09:15:03-05:00`: the moment in the recipient's zone, offset included."""
    try:
        return at.astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown zone {zone}"


def _outcome(row: Row, entry: HistoryEntry, latest: bool) -> tuple[str, str]:
    """What became of one attempt, in words, and the API's or the dialer's message."""
    status = entry.status
    error = row.error if latest else ""
    if status == "rejected":
        return "rejected", error
    if status == "not_created":
        return "not created", (
            error or "not sent, throttled (429), or proven absent from the call list"
        )
    if status == "dialing":
        if latest and row.status is RowStatus.UNKNOWN:
            return "in doubt", error or "the answer was lost; no call was confirmed or disproved"
        return "in doubt", "the answer was not known yet when the log was written"
    if status in API_FINAL or status == "active":
        return "created", f"call {status}" if status in API_FINAL else "call in progress"
    return status, error


def write_attempts(path: Path, lines: Iterable[list[str]]) -> int:
    """Write the log as CSV or XLSX (by extension), whole or not at all; return its lines."""
    return write_text_table(path, "Attempts", list(ATTEMPT_COLUMNS), lines)
