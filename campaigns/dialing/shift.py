"""A worker's shift on one campaign in cluster mode: a bounded stretch of dialing, and, for the
one shift that holds the campaign's dispatcher lease, polling, the sweep and the end of the run.

Shifts are short so that a campaign moves between workers freely and a killed worker's share
is picked up quickly: its row leases and its dispatcher lease simply run out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from campaigns.dialing.engine import Engine
from campaigns.store.rows import LIVE_STATES, CampaignState
from dialer.clock import Clock
from dialer.errors import AuthError
from dialer.leases import Leases

log = logging.getLogger(__name__)

SLOT_LEASE_MS = 20_000  # a running shift's hold on its slot (ShiftPlan.lease_ms)


@dataclass(frozen=True)
class ShiftPlan:
    slot_key: str  # the lease on this worker slot of the campaign
    dispatcher_key: str  # the lease on the campaign's dispatcher role
    token: str  # this shift's identity in the slot lease
    dispatcher_token: str  # stable per slot, so the slot's next shift keeps the role
    length_s: float = 5.0
    # A dead shift's slot is free again this long after its last renewal (every state_every_s),
    # so a worker's reviver restarts it quickly. A shift blocked longer on the account's limits
    # finds its slot taken at its next renewal and ends: one shift per slot again.
    lease_ms: int = SLOT_LEASE_MS
    dispatcher_lease_ms: int = 15_000
    sweep_every_s: float = 5.0
    state_every_s: float = 0.5


class Shift:
    def __init__(
        self,
        engine: Engine,
        leases: Leases,
        clock: Clock,
        plan: ShiftPlan,
        supervise: Callable[[], None] = lambda: None,
    ) -> None:
        self.engine = engine
        self.leases = leases
        self.clock = clock
        self.plan = plan
        self.supervise = supervise  # the dispatcher restarts slots whose worker died

    def work(self) -> CampaignState:
        """Run the shift; returns the campaign's state at its end."""
        try:
            return self._loop()
        except AuthError as exc:
            self._end(CampaignState.FAILED, str(exc))
            return CampaignState.FAILED
        finally:
            self.engine.release_held()

    def _loop(self) -> CampaignState:
        e, p, clock = self.engine, self.plan, self.clock
        end_at = clock.now() + p.length_s
        next_sweep = next_upkeep = clock.now()
        state, dispatcher = CampaignState.RUNNING, False
        while (now := clock.now()) < end_at:
            if now >= next_upkeep:  # leases and state: not on every dial, they cost round trips
                if not self.leases.hold(p.slot_key, p.token, p.lease_ms):
                    break  # another shift holds this slot: a redelivered duplicate of us
                state = self._state()
                dispatcher = self.leases.hold(
                    p.dispatcher_key, p.dispatcher_token, p.dispatcher_lease_ms
                )
                next_upkeep = now + p.state_every_s
            if state not in LIVE_STATES:
                return state
            # Dial first: a limiter slot that just opened is taken before anything else.
            wait_s = e.dial_next() if state is CampaignState.RUNNING else next_upkeep - now
            wake_at = clock.now() + min(wait_s, next_upkeep - now)
            if dispatcher:
                if now >= next_sweep:
                    e.sweep()
                    self.supervise()
                    next_sweep = now + p.sweep_every_s
                if e.next_poll_in() <= 0:
                    e.poll_safely()
                state = self._maybe_end(state)
                wake_at = min(wake_at, clock.now() + e.next_poll_in())
            if state is not CampaignState.RUNNING:
                e.release_held()
            if wait_s > 0:
                clock.sleep(max(min(wake_at, end_at) - clock.now(), 0.0))
        return state

    def _state(self) -> CampaignState:
        meta = self.engine.store.get_campaign(self.engine.campaign_id)
        return meta.state if meta else CampaignState.FAILED

    def _maybe_end(self, state: CampaignState) -> CampaignState:
        e = self.engine
        if state is CampaignState.RUNNING and e.is_done():
            return self._end(CampaignState.FINISHED)
        if state is CampaignState.STOPPING and e.store.in_flight(e.campaign_id) == 0:
            return self._end(CampaignState.STOPPED)
        return state

    def _end(self, state: CampaignState, reason: str = "") -> CampaignState:
        e = self.engine
        log.info("campaign %s %s %s", e.campaign_id, state.value, reason)
        # no reason given: the one set with `stopping` (the spend guard's) is kept
        fields: dict[str, object] = {"reason": reason} if reason else {}
        e.store.update_campaign(e.campaign_id, state=state, ended_at=self.clock.now(), **fields)
        return state
