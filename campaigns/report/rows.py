"""The report's rows: what each input row became, in words a reader of the report understands."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from campaigns.store.rows import (
    API_FINAL,
    LIVE_STATES,
    CampaignState,
    NewRow,
    Row,
    RowStatus,
)

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


_ATTEMPTS_OFFSET = RESULT_COLUMNS.index("attempts")


_STOPPED_BEFORE_CONFIRMED = "the run stopped before this call could be confirmed"


# By campaign state (compared as text: `stopping` exists only in newer stores). In a live
# state (LIVE_STATES) dialing rows are still being confirmed.
_CALLING_STATES = frozenset({"running"})  # pending rows may still be called


_NOT_CALLED_BECAUSE = {
    "stopping": "the run is stopping: this row will not be called",
    "stopped": "the run was stopped before this row was called",
    "finished": "the row's calling window did not open before the run ended",
    "failed": "the run stopped on an error before this row was called",
}


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
    # Not columns of the report: what the Analysis sheet needs (campaigns/report/analysis.py).
    zones: tuple[str, ...] = ()  # the zones the number may ring in
    called_at_s: float = 0.0  # epoch s of the last call's POST; 0 when never called


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


_REDIAL_NOT_MADE = "the run ended before the redial this status allowed"


_STILL_LIVE = "the call was still live when the run stopped: resume the run to follow it"


def _where_it_stands(row: Row, state: str, reason: str = "") -> tuple[str, str]:
    """(status, error) for the report; see `report_rows`."""
    if row.status == RowStatus.PENDING:
        if state in _CALLING_STATES:
            return "pending", row.error
        if row.attempts and row.live_status in API_FINAL:  # a redial the run never made
            return row.live_status, row.error or _REDIAL_NOT_MADE
        reason = reason or _NOT_CALLED_BECAUSE.get(
            state, "the run ended before this row was called"
        )
        return "not_called", row.error or reason
    if row.status == RowStatus.DIALING:
        if state in LIVE_STATES:
            return "dialing", row.error
        return "unknown", row.error or _STOPPED_BEFORE_CONFIRMED
    if row.status == RowStatus.ACTIVE:
        if state in LIVE_STATES:
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
