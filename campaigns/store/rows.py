"""The campaign store: the source of truth for every row's state. Queues only carry ids.

A row moves through these states (DESIGN.md):

    pending --claim--> pending, leased --begin_dial--> dialing (intent written, attempts+1)
    dialing --call_created--> active (callId known) --finish--> completed/failed/no_answer/busy
    dialing --dial_not_sent--> pending (the POST provably never left: attempts-1)
    dialing --finish(rejected)--> rejected          dialing --finish(unknown)--> unknown
    final --finish(redial_at=...)--> pending again with a not-before time

Rows the loader could not call (invalid, duplicate, suppressed) are stored in their final state.
Every transition is one conditional, atomic, durable write: a row in `dialing` is never moved
back to `pending` unless the caller knows the POST did not leave, and `begin_dial` is the only
way into `dialing`, so a row is POSTed at most once per attempt whatever runs twice.
Two backends implement `RowStore`: `sqlite_store` (embedded) and `redis_store` (cluster); one
contract test suite (tests/test_store_contract.py) runs against both.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from campaigns.store.dnc import DncEntry
from campaigns.store.history import DialGuard, HistoryEntry
from dialer.voxpria.models import FINAL_STATUSES, Call


class RowStatus(StrEnum):
    # in flight
    PENDING = "pending"
    DIALING = "dialing"
    ACTIVE = "active"
    # final, from the API
    COMPLETED = "completed"
    FAILED = "failed"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    # final, decided by the dialer
    REJECTED = "rejected"
    UNKNOWN = "unknown"
    INVALID = "invalid"
    DUPLICATE = "duplicate"
    SUPPRESSED = "suppressed"
    # only in reports: a pending row of a run that ended, and a dry run's callable row
    NOT_CALLED = "not_called"
    READY = "ready"

    @property
    def is_final(self) -> bool:
        return self not in LEFT_TO_DO


# The groups of row statuses, named once: every count, query and page uses these.
LEFT_TO_DO: frozenset[RowStatus] = frozenset(
    {RowStatus.PENDING, RowStatus.DIALING, RowStatus.ACTIVE}
)  # still to dial or to follow: a run is done when no row is left in these
IN_FLIGHT = (RowStatus.DIALING, RowStatus.ACTIVE)  # a POST sent: a call may be live
API_FINAL: frozenset[RowStatus] = frozenset(RowStatus(s.value) for s in FINAL_STATUSES)
# stored final by the loader: never dialled
NOT_CALLABLE: frozenset[RowStatus] = frozenset(
    {RowStatus.INVALID, RowStatus.DUPLICATE, RowStatus.SUPPRESSED}
)
NOT_STARTED: frozenset[RowStatus] = NOT_CALLABLE | {RowStatus.PENDING}  # no call made yet
# where a callable row ends: the API's final statuses, or the dialer's verdict on the call
CALLABLE_FINAL: frozenset[RowStatus] = API_FINAL | {RowStatus.REJECTED, RowStatus.UNKNOWN}


class CampaignState(StrEnum):
    RUNNING = "running"
    STOPPING = "stopping"  # no new calls; live ones followed to their end (cluster Ctrl-C)
    STOPPED = "stopped"  # cancelled by the user: resumable
    FINISHED = "finished"
    FAILED = "failed"  # stopped by an error that stops everything (a refused API key)


# a run goes on (or is stopping): its live calls are still followed
LIVE_STATES: frozenset[CampaignState] = frozenset({CampaignState.RUNNING, CampaignState.STOPPING})
ENDED_STATES: frozenset[CampaignState] = frozenset(
    {CampaignState.STOPPED, CampaignState.FINISHED, CampaignState.FAILED}
)


@dataclass(frozen=True)
class NewRow:
    """A row as the loader hands it to the store."""

    idx: int  # 0-based position among the input's data rows
    cells: list[str]  # the input's cells, exactly as read
    to_number: str  # E.164, or "" when it could not be read
    status: RowStatus  # PENDING for a callable row, else INVALID/DUPLICATE/SUPPRESSED
    variables: dict[str, str] = field(default_factory=dict)
    zones: tuple[str, ...] = ()
    error: str = ""


@dataclass
class Row:
    idx: int
    cells: list[str]
    to_number: str
    status: RowStatus
    variables: dict[str, str] = field(default_factory=dict)
    zones: tuple[str, ...] = ()
    error: str = ""
    not_before: float = 0.0  # epoch s; pending rows wait until then
    attempts: int = 0
    call_id: str = ""
    intent_at: float = 0.0  # epoch s the last dialing intent was written
    lease_owner: str = ""
    lease_until: float = 0.0
    next_poll_at: float = 0.0
    live_status: str = ""  # queued/ringing/in_progress while active
    outcome: str = ""
    duration: str = ""
    started_at: str = ""
    completed_at: str = ""
    recording: str = ""
    transcript: str = ""


# The row fields a report line may end with (RowStore.iter_report_lines).
REPORT_LINE_FIELDS = frozenset(
    {
        "to_number", "status", "error", "attempts", "call_id", "live_status", "outcome",
        "duration", "started_at", "completed_at", "recording", "transcript",
    }
)  # fmt: skip
_REPORT_BATCH_ROWS = 20_000


@dataclass(frozen=True)
class ReportLines:
    """A batch of rows as the CSV report reads them: plain lists, no object per row (on a
    million rows, objects cost seconds)."""

    lines: list[list[str]]  # each row's cells, then the fields asked for, as text
    statuses: list[str]  # each row's stored status (RowStatus values)
    live_statuses: list[str]  # each row's live_status


def report_lines(rows: Iterable[Row], fields: Sequence[str]) -> Iterator[ReportLines]:
    """`rows` as `iter_report_lines` gives them, for a store with no cheaper read."""
    if not REPORT_LINE_FIELDS.issuperset(fields):
        raise ValueError(f"not report line fields: {sorted(set(fields) - REPORT_LINE_FIELDS)}")
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= _REPORT_BATCH_ROWS:
            yield _report_lines(batch, fields)
            batch = []
    if batch:
        yield _report_lines(batch, fields)


def _report_lines(rows: list[Row], fields: Sequence[str]) -> ReportLines:
    return ReportLines(
        [[*r.cells, *(str(getattr(r, field)) for field in fields)] for r in rows],
        [r.status.value for r in rows],
        [r.live_status for r in rows],
    )


@dataclass
class CampaignMeta:
    campaign_id: str
    agent_id: str
    source: str  # the contact list's path, as given
    headers: list[str]  # the input's header row, as written
    settings: dict[str, object]  # the run's options, enough to resume it (JSON-able)
    state: CampaignState = CampaignState.RUNNING
    reason: str = ""  # why it failed or stopped
    created_at: float = 0.0
    started_at: float = 0.0
    ended_at: float = 0.0
    total_rows: int = 0


@dataclass(frozen=True)
class DueCall:
    """An active call the poller should look at."""

    idx: int
    call_id: str
    to_number: str
    intent_at: float
    next_poll_at: float


def call_fields(call: Call | None) -> tuple[str, str, str, str, str, str]:
    """The report's call columns from an API call (empty when the API left them out)."""
    if call is None:
        return ("", "", "", "", "", "")
    duration = "" if call.duration_s is None else f"{call.duration_s:g}"
    return (
        call.outcome or "",
        duration,
        call.started_at or "",
        call.completed_at or "",
        call.recording or "",
        call.transcript or "",
    )


class RowStore(Protocol):
    def check_intact(self) -> None:
        """Raise StoreError when the store itself vanished under this process (a state file
        deleted or replaced mid-run)."""

    # --- campaigns ---
    def create_campaign(self, meta: CampaignMeta, rows: Iterable[NewRow]) -> bool:
        """Store a new campaign and its rows; False (and nothing written) if the id exists.
        The campaign becomes visible only once every row is stored."""

    def get_campaign(self, campaign_id: str) -> CampaignMeta | None: ...

    def update_campaign(self, campaign_id: str, **fields: object) -> None: ...

    def list_campaigns(self) -> list[CampaignMeta]: ...

    # --- rows: reading ---
    def get_row(self, campaign_id: str, idx: int) -> Row | None: ...

    def iter_rows(self, campaign_id: str) -> Iterator[Row]:
        """Every row in input order, streamed in batches."""

    def iter_report_rows(self, campaign_id: str) -> Iterator[Row]:
        """`iter_rows` with only what the outcome report and its analysis read (variables and
        leases may be left empty): as cheap to read as the store can make it."""

    def iter_report_lines(self, campaign_id: str, fields: Sequence[str]) -> Iterator[ReportLines]:
        """Every row in input order, in batches, as its cells followed by `fields` (names of
        `REPORT_LINE_FIELDS`) as text: the CSV report's read, with no object made per row."""

    def counts(self, campaign_id: str) -> dict[RowStatus, int]:
        """Rows by status (statuses with no rows may be left out)."""

    def next_pending_at(self, campaign_id: str) -> float | None:
        """The earliest not-before time among unleased pending rows, or None."""

    # --- rows: transitions (each atomic and conditional) ---
    def claim(
        self, campaign_id: str, owner: str, now: float, lease_s: float, limit: int
    ) -> list[Row]:
        """Lease up to `limit` pending rows whose not-before has passed and whose lease is free
        or expired, in not-before order."""

    def release(
        self, campaign_id: str, idx: int, owner: str, not_before: float, error: str | None = None
    ) -> bool:
        """Give a leased pending row back, due at `not_before`; with `error`, why it waits."""

    def begin_dial(
        self,
        campaign_id: str,
        idx: int,
        owner: str,
        now: float,
        lease_s: float,
        max_active: int,
        guard: DialGuard | None = None,
    ) -> Row | None:
        """pending (leased by owner) -> dialing, attempts+1, intent time `now`: the durable
        intent written before the POST, and the call entered in the contact history. None when
        the row is not ours to dial or when `max_active` rows are already dialing or active.
        With a `guard`, in the same atomic step: a number on the do-not-call list, or that
        another group called within `guard.recall_after_s`, is not dialled; the row is
        returned `suppressed` instead."""

    def recall_check(
        self, campaign_id: str, idx: int, owner: str, now: float, guard: DialGuard
    ) -> Row | None:
        """The guard alone (do-not-call list, recall), before a limiter slot is spent on a row:
        a leased pending row it refuses -> `suppressed` (returned); else None."""

    def recent_calls(self, numbers: list[str], since: float) -> list[HistoryEntry]:
        """The contact history's calls to these numbers at or after `since` (this account)."""

    def history(self, number: str) -> list[HistoryEntry]:
        """Every entry for one number (this account), oldest first."""

    def campaign_history(self, numbers: list[str], campaign_id: str) -> list[HistoryEntry]:
        """Every entry of one campaign for these numbers (one batched read: the attempt
        log), each number's oldest first."""

    # --- the do-not-call list (campaigns.store.dnc), checked in begin_dial / recall_check ---
    def dnc_add(self, entries: list[DncEntry]) -> int:
        """Add numbers (an entry already there keeps its first time and reason); how many
        were new."""

    def dnc_remove(self, numbers: list[str]) -> int: ...

    def dnc_get(self, number: str) -> DncEntry | None: ...

    def dnc_entries(self) -> list[DncEntry]:
        """Every entry, oldest first."""

    def hold_dialing(self, campaign_id: str, idx: int, owner: str, until: float) -> bool:
        """A row in doubt that `owner` is verifying: look again at `until` (its lease)."""

    def call_created(self, campaign_id: str, idx: int, call: Call, next_poll_at: float) -> bool:
        """dialing -> active with the callId."""

    def dial_not_sent(self, campaign_id: str, idx: int, not_before: float, error: str) -> bool:
        """dialing -> pending: the POST provably created no call (never sent, or verified absent
        from the call list): attempts-1, the history entry marked `not_created`."""

    def finish(
        self,
        campaign_id: str,
        idx: int,
        status: RowStatus,
        call: Call | None = None,
        error: str = "",
        redial_at: float | None = None,
    ) -> bool:
        """A dialing or active row -> `status` (final) with the call's fields; with
        `redial_at`, back to pending due then (the last call's fields kept). False if the row
        was already final (a repeated poll or webhook changes nothing). With a `call`, only an
        active row following that very call (its callId) moves: a late result of an earlier
        attempt, or of another row's call, lands nowhere."""

    def due_calls(self, campaign_id: str, now: float, limit: int) -> list[DueCall]:
        """Active rows whose next poll time has passed, oldest due first."""

    def active_calls(self, campaign_id: str) -> list[DueCall]:
        """Every active row (to match against a page of the call list)."""

    def set_polled(
        self, campaign_id: str, idx: int, live_status: str, next_poll_at: float
    ) -> bool: ...

    def expired_dialing(self, campaign_id: str, now: float) -> list[Row]:
        """Rows in dialing whose lease has expired: their dialer died mid-POST."""

    def take_over(
        self, campaign_id: str, idx: int, owner: str, now: float, lease_s: float
    ) -> Row | None:
        """Lease an expired dialing row to `owner` so exactly one sweeper reconciles it."""

    def in_flight(self, campaign_id: str) -> int:
        """Rows dialing or active."""

    def next_poll_at(self, campaign_id: str) -> float | None:
        """The earliest next-poll time among active rows, or None when none is active."""

    # --- webhooks ---
    def find_call(self, call_id: str) -> tuple[str, int] | None:
        """The (campaign, row) a callId belongs to, in any campaign of this store."""

    def first_event(self, call_id: str, event: str) -> bool:
        """Record that `event` arrived for `call_id`; False if it had arrived before (the
        retried deliveries the docs promise change nothing)."""
