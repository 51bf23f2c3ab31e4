"""The dialing engine: plain functions of one campaign over a store, a limiter and an API client.

The embedded runner (campaigns.dialing.runner) and a worker's shifts (campaigns.dialing.shift)
both drive it through `dial_next()`, `poll_safely()` and `sweep()`; neither holds any state the
store does not, so any process can pick up where another stopped.

The dial path, each step durable before the next (DESIGN.md):
  claim a due row (lease) -> calling window open? -> account and agent limits (one atomic
  acquire) -> begin_dial: the intent written (pending -> dialing) -> POST /calls -> by outcome:
  created: active with callId | rejected: final | not sent / 429: pending again (no call exists)
  | ambiguous: stays dialing (in doubt) and is verified through the call list, never POSTed
  while in doubt.

Verified absence, then dial (DESIGN.md): a row in doubt is looked for in the call list at once
and again until `verify_after_s` past its intent. Found: the call is adopted. Absent at that
horizon, with the list read back past the intent: no call was created, so the row goes back to
pending (the attempt not counted, the contact history noting `not_created`) and is dialled
again, unless `--in-doubt unknown`. A list that cannot be read (or is unfit: not newest first,
items without toNumber/createdAt) proves nothing: the row is looked for again, and becomes
`unknown` only when nothing else is left to do (or after VERIFY_GIVE_UP_FACTOR horizons). The
search itself: campaigns.dialing.call_search.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from campaigns.dialing.call_search import CLOCK_SKEW_S, parse_time, search_call_list
from campaigns.dialing.calling_gate import WAITING_FOR_RULE, CallingGate
from campaigns.dialing.policy import DialPolicy
from campaigns.dialing.spend import SpendGuard
from campaigns.store.history import CallCap, DialGuard
from campaigns.store.rows import LEFT_TO_DO, CampaignState, DueCall, Row, RowStatus, RowStore
from dialer.clock import Clock
from dialer.errors import ApiUnavailable, AuthError
from dialer.limiter import Limiter
from dialer.metrics import NO_METRICS, Recorder
from dialer.voxpria.client import VoxpriaClient
from dialer.voxpria.models import Ambiguous, Call, Created, NotSent, Rejected, Throttled

log = logging.getLogger(__name__)

HOLD_MAX_S = 2.0  # the longest limiter wait a claimed row is held through
MAX_POLL_PAGES = 20  # past this, the calls still unseen are looked up one by one
VERIFY_GIVE_UP_FACTOR = 10.0  # an unreadable list: give up this many horizons after the intent
NOT_FOUND = (
    "the API's answer to this call was lost and no matching call appeared in the call list: "
    "a call may or may not have been placed, so it is not dialled again"
)
UNPROVEN = (
    "the API's answer to this call was lost and the call list could not be read back past "
    "the attempt before the run ended: a call may or may not have been placed, so it is not "
    "dialled again"
)
PROVEN_ABSENT = (
    "the API's answer was lost; the call list, read back past the attempt {after_s:g} s "
    "later, showed no call: dialled again"
)


def _fields(event: str, row: int, call_id: str | None) -> dict[str, object]:
    """A log record's structured fields (DIALER_LOG_FORMAT=json); row numbers count from 1."""
    return {"event": event, "row": row + 1, "call_id": call_id}


@dataclass
class EngineStats:
    """What this process did, for progress displays and benchmarks."""

    calls_created: int = 0
    polls: int = 0
    created_at: list[float] = field(default_factory=list)


def record_final(
    store: RowStore,
    campaign_id: str,
    idx: int,
    attempts: int,
    call: Call,
    policy: DialPolicy,
    now: float,
) -> bool:
    """A call's final status onto its row, back to pending when `--redial` allows another
    attempt. Shared by the poller and the webhook receiver; a repeat changes nothing."""
    assert call.status is not None and call.status.is_final
    status = RowStatus(call.status.value)
    redial_at = now + policy.redial_after_s if attempts <= policy.extra_attempts(status) else None
    return store.finish(campaign_id, idx, status, call, redial_at=redial_at)


class Engine:
    def __init__(
        self,
        campaign_id: str,
        policy: DialPolicy,
        store: RowStore,
        limiter: Limiter,
        client: VoxpriaClient,
        clock: Clock,
        owner: str,
        metrics: Recorder = NO_METRICS,
    ) -> None:
        self.campaign_id = campaign_id
        self.policy = policy
        self.store = store
        self.limiter = limiter
        self.client = client
        self.clock = clock
        self.owner = owner
        self.metrics = metrics
        self.stats = EngineStats()
        self._held: Row | None = None  # claimed, waiting a moment for a limiter slot
        cap = CallCap.parse(policy.max_calls) if policy.max_calls else None
        self.guard = DialGuard(
            policy.recall_after_s, policy.recall_group or campaign_id, policy.agent_id, cap
        )
        self.spend = (
            None
            if policy.min_balance is None
            else SpendGuard(
                policy.min_balance, client, limiter, clock, every_s=10.0 * policy.poll.scale
            )
        )
        self.spend_stop = ""  # why new calls stopped (the spend guard), "" while they go on
        self.gate = CallingGate(policy.window, policy.rules)  # --window and --rules

    # --- dialing ---
    def dial_next(self) -> float:
        """Dial at most one row. Returns 0 when it may be called again at once, else the
        seconds until dialing could go on (limiter, max-active, nothing due)."""
        now = self.clock.now()
        row = self._take_held(now)  # max-active was checked when it was claimed
        if row is None:
            if self.store.in_flight(self.campaign_id) >= self.policy.max_active:
                return self.policy.poll.min_interval_s * self.policy.poll.scale
            row = self._claim(now)
        if row is None:
            return self._until_next_pending(now)
        closed = self.gate.closed(row.to_number, row.zones, now)
        if closed is not None:  # the row waits, its rule named in its error (if it has one)
            opens = closed.opens_at if closed.opens_at is not None else now + 86400.0
            self._release(row, opens, closed.reason or None)
            return 0.0
        if row.error.startswith(WAITING_FOR_RULE):  # its rule allows it now: forget the wait
            self._release(row, now, "")
            return 0.0
        if self._recalled(row, now):  # the do-not-call list, the recall guard
            return 0.0  # suppressed before a limiter slot is spent on it
        if self._under_balance(row):
            return self.policy.poll.min_interval_s * self.policy.poll.scale
        wait_s = self.limiter.acquire_call(self.policy.agent_id, self.policy.agent_rate)
        if wait_s > 0:
            # Held through a short wait, so the row is dialled the moment the slot opens (a
            # late start is rate lost for good); the short lease frees it soon if we die.
            if wait_s < HOLD_MAX_S and row.lease_until > now + wait_s:
                self._held = row
            else:
                self._release(row, row.not_before)
            return wait_s
        self._dial(row, self.clock.now())
        return 0.0

    def _under_balance(self, row: Row) -> bool:
        """The spend guard: under --min-balance, the row goes back (pending, for a resume) and
        the campaign is set stopping, so every worker stops starting calls and follows the
        live ones to their end."""
        reason = self.spend.under() if self.spend is not None else None
        if reason is None:
            return False
        self._release(row, row.not_before)
        if not self.spend_stop:
            self.spend_stop = reason
            log.warning("no new calls: %s", reason)
            self.store.update_campaign(
                self.campaign_id, state=CampaignState.STOPPING, reason=reason
            )
        return True

    def _recalled(self, row: Row, now: float) -> bool:
        done = self.store.recall_check(self.campaign_id, row.idx, self.owner, now, self.guard)
        if done is not None:
            log.info("row %d not called: %s", row.idx, done.error)
        return done is not None

    def _claim(self, now: float) -> Row | None:
        rows = self.store.claim(self.campaign_id, self.owner, now, HOLD_MAX_S + 1.0, limit=1)
        return rows[0] if rows else None

    def _take_held(self, now: float) -> Row | None:
        row, self._held = self._held, None
        return row if row is not None and row.lease_until > now else None

    def release_held(self) -> None:
        """Give back a row claimed but not dialled (when stopping)."""
        row, self._held = self._held, None
        if row is not None:
            self._release(row, row.not_before)

    def _release(self, row: Row, not_before: float, error: str | None = None) -> None:
        self.store.release(self.campaign_id, row.idx, self.owner, not_before, error)

    def _until_next_pending(self, now: float) -> float:
        nxt = self.store.next_pending_at(self.campaign_id)
        return 1.0 if nxt is None else min(max(nxt - now, 0.05), 1.0)

    def _dial(self, row: Row, now: float) -> None:
        p, cid = self.policy, self.campaign_id
        dialing = self.store.begin_dial(
            cid, row.idx, self.owner, now, p.lease_s, p.max_active, self.guard
        )
        if dialing is None:  # lease lost, or max-active reached by another worker
            self.store.release(cid, row.idx, self.owner, now)
            return
        if dialing.status is not RowStatus.DIALING:  # the guard, in the same atomic step:
            log.info("row %d not called now: %s", row.idx, dialing.error or "over its cap")
            return  # suppressed, or pending until its frequency cap frees
        try:
            outcome = self.client.create_call(p.agent_id, row.to_number, row.variables)
        except AuthError:
            # A 401 created nothing: the row goes back untouched and the whole run stops.
            self.store.dial_not_sent(cid, row.idx, now, "")
            raise
        after = self.clock.now()
        self.metrics.post_outcome(type(outcome).__name__.lower())
        match outcome:
            case Created(call):
                self.stats.calls_created += 1
                if self.spend is not None:
                    self.spend.call_started()
                self.stats.created_at.append(after)
                self.metrics.call_created()
                log.info("call created", extra=_fields("call_created", row.idx, call.call_id))
                self.store.call_created(cid, row.idx, call, after + p.poll.next_check_s(0))
            case Rejected(code, message):
                self.store.finish(
                    cid, row.idx, RowStatus.REJECTED, error=f"API refused ({code}): {message}"
                )
            case NotSent(reason):
                self.store.dial_not_sent(cid, row.idx, after + p.retry_not_sent_s, reason)
            case Throttled(retry_at, reason):
                self.limiter.push_back(retry_at)
                self.store.dial_not_sent(cid, row.idx, retry_at, reason)
            case Ambiguous(reason):
                log.warning("row %d: %s; verifying through the call list", row.idx, reason)
                self.verify([dialing])

    # --- verifying rows in doubt ---
    def sweep(self) -> int:
        """Verify rows left in dialing past their lease (their dialer died, the answer was lost,
        or a verification is due again). Returns how many were taken over."""
        now = self.clock.now()
        taken = [
            r
            for stale in self.store.expired_dialing(self.campaign_id, now)
            if (
                r := self.store.take_over(
                    self.campaign_id, stale.idx, self.owner, now, self.policy.lease_s
                )
            )
        ]
        if taken:
            self.verify(taken)
        return len(taken)

    def verify(self, rows: list[Row]) -> None:
        """One look at the call list for these rows in doubt (leased to this engine); then each
        is adopted, dialled again (proven absent at its horizon), made `unknown`, or held for
        another look."""
        found, proven = search_call_list(
            self.client, rows, self.policy.agent_id, self.policy.poll.page_size
        )
        now, p, cid = self.clock.now(), self.policy, self.campaign_id
        for row in rows:
            call = found.get(row.idx)
            if call is not None:
                self._adopt(row, call)
                continue
            horizon = row.intent_at + p.verify_after_s
            if now >= horizon and (proven or p.in_doubt == "unknown"):
                if p.in_doubt == "unknown":
                    self.store.finish(cid, row.idx, RowStatus.UNKNOWN, error=NOT_FOUND)
                else:
                    log.warning("row %d: proven absent from the call list; dialling again", row.idx)
                    error = PROVEN_ABSENT.format(after_s=round(now - row.intent_at))
                    self.store.dial_not_sent(cid, row.idx, now, error)
            elif now >= horizon and self._unprovable(row, now):
                self.store.finish(cid, row.idx, RowStatus.UNKNOWN, error=UNPROVEN)
            else:
                recheck_s = max(min(p.verify_after_s / 4, 15.0), 0.2)
                at = now + recheck_s if now >= horizon else min(now + recheck_s, horizon)
                self.store.hold_dialing(cid, row.idx, self.owner, at)

    def _unprovable(self, row: Row, now: float) -> bool:
        """Past the horizon and the list unreadable: give up only when the run has nothing
        else left (it would end) or after many horizons."""
        if now >= row.intent_at + VERIFY_GIVE_UP_FACTOR * self.policy.verify_after_s:
            return True
        counts = self.store.counts(self.campaign_id)
        return not counts.get(RowStatus.PENDING, 0) and not counts.get(RowStatus.ACTIVE, 0)

    def _adopt(self, row: Row, call: Call) -> None:
        now = self.clock.now()
        self.stats.calls_created += 1
        self.metrics.call_created()
        log.info("call found after a lost answer", extra=_fields("adopted", row.idx, call.call_id))
        self.store.call_created(self.campaign_id, row.idx, call, now)
        if call.is_final:
            self._record_final(row.idx, row.attempts, call)

    # --- following calls to their end ---
    def poll(self) -> int:
        """Look at the calls that are due, a list page at a time when more than one call is
        live (one request refreshes all of them), single GETs otherwise. Returns calls seen."""
        now = self.clock.now()
        due = self.store.due_calls(self.campaign_id, now, limit=1000)
        if not due:
            return 0
        active = self.store.active_calls(self.campaign_id)
        unseen = {d.call_id: d for d in due}
        if len(active) > 1:
            unseen = self._poll_pages({a.call_id: a for a in active}, unseen)
        for d in unseen.values():
            self.stats.polls += 1
            self._record(d, self.client.get_call(d.call_id))
        return len(due)

    def poll_safely(self) -> None:
        """`poll`, but an API that keeps failing only delays the next look (it is logged)."""
        try:
            self.poll()
        except ApiUnavailable as exc:
            log.warning("polling failed, will try again: %s", exc)
            for d in self.store.due_calls(self.campaign_id, self.clock.now(), limit=1000):
                self.store.set_polled(self.campaign_id, d.idx, "", self.clock.now() + 5.0)

    def _poll_pages(
        self, active: dict[str, DueCall], unseen: dict[str, DueCall]
    ) -> dict[str, DueCall]:
        """Read the call list newest first, a whole page at a time: every live call on a
        page is refreshed (it costs nothing more), until every due call was seen or the pages
        reach calls older than the oldest due one. Returns the due calls not seen."""
        oldest = min(d.intent_at for d in unseen.values()) - CLOCK_SKEW_S
        page_size = self.policy.poll.page_size
        for page in range(1, MAX_POLL_PAGES + 1):
            calls = self.client.list_calls_page(page, page_size)
            self.stats.polls += 1
            for call in calls:
                if call.call_id in active:
                    self._record(active.pop(call.call_id), call)
                    unseen.pop(call.call_id, None)
            created = [t for c in calls if (t := parse_time(c.created_at)) is not None]
            if not unseen or len(calls) < page_size or (created and min(created) < oldest):
                break
        return unseen

    def _record(self, due: DueCall, call: Call) -> None:
        if call.call_id != due.call_id or (call.to_number and call.to_number != due.to_number):
            log.warning("row %d: ignored call %s, not its call", due.idx, call.call_id)
            return  # only the row's own call may move it
        if call.is_final:
            row = self.store.get_row(self.campaign_id, due.idx)
            self._record_final(due.idx, row.attempts if row else 1, call)
            return
        now = self.clock.now()
        live = call.status.value if call.status else "queued"
        next_at = now + self.policy.poll.next_check_s(now - due.intent_at)
        self.store.set_polled(self.campaign_id, due.idx, live, next_at)

    def _record_final(self, idx: int, attempts: int, call: Call) -> None:
        status = call.status.value if call.status else "?"
        log.info("call ended: %s", status, extra=_fields("call_ended", idx, call.call_id))
        record_final(
            self.store, self.campaign_id, idx, attempts, call, self.policy, self.clock.now()
        )

    # --- the whole picture ---
    def is_done(self) -> bool:
        counts = self.store.counts(self.campaign_id)
        return not any(counts.get(s, 0) for s in LEFT_TO_DO)

    def next_poll_in(self) -> float:
        next_at = self.store.next_poll_at(self.campaign_id)
        return 1.0 if next_at is None else max(next_at - self.clock.now(), 0.0)
