"""A campaign on the cluster: handed to the workers (`Submission`, passed in: Celery lives in
`workers`) and followed through the store until it ends, Redis outages waited out."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from campaigns.service.outages import store_outages, through_outages
from campaigns.store.rows import LIVE_STATES, NOT_STARTED, CampaignState, RowStore
from dialer.clock import Clock
from dialer.errors import ApiError

if TYPE_CHECKING:
    from campaigns.backends import Services
    from campaigns.dialing.runner import Progress, StopSignal

NO_WORKERS = (
    "No worker is consuming the queue at REDIS_URL yet: the campaign waits for one. Start "
    "workers with `dialer worker` (same REDIS_URL and VOXPRIA_API_KEY), e.g. "
    "`docker compose up -d --scale worker=2`."
)
WORKER_CHECK_EVERY_S = 30.0
FOLLOW_EVERY_S = 1.0

Say = Callable[[str], None]
OnProgress = Callable[["Progress"], None]


class Submission(Protocol):
    """Handing a campaign to the cluster's workers (workers/submission.py: Celery)."""

    def submit(self, services: Services, campaign_id: str) -> int:
        """Start the campaign's shifts; returns the worker processes listening (0: none)."""
        ...

    def workers_listening(self, services: Services) -> bool: ...

    def outage_errors(self) -> tuple[type[BaseException], ...]:
        """What the queue raises while Redis is away (waited out, as a store outage is)."""
        ...


def follow(
    services: Services,
    submission: Submission,
    clock: Clock,
    campaign_id: str,
    stop: StopSignal,
    say: Say,
    on_progress: OnProgress | None = None,
) -> CampaignState:
    """Follow a submitted campaign through the store until it is no longer live; returns its
    state then. `stop` requested: the campaign is set stopping (the workers end it). A failed
    campaign is an ApiError with its reason."""
    store = services.store
    errors = store_outages() + submission.outage_errors()
    next_worker_check = clock.now() + WORKER_CHECK_EVERY_S

    def look() -> CampaignState:
        nonlocal next_worker_check
        state = _state(store, campaign_id)
        if state not in LIVE_STATES:
            return state
        if stop.requested and state is CampaignState.RUNNING:
            store.update_campaign(campaign_id, state=CampaignState.STOPPING)
        if on_progress is not None:
            on_progress(progress(store, campaign_id, clock.now()))
        if clock.now() >= next_worker_check:
            next_worker_check = clock.now() + WORKER_CHECK_EVERY_S
            if not submission.workers_listening(services):
                say(NO_WORKERS)
        return state

    while (state := through_outages(look, say, clock, errors=errors)) in LIVE_STATES:
        clock.sleep(FOLLOW_EVERY_S)
    if state is CampaignState.FAILED:
        current = store.get_campaign(campaign_id)
        reason = current.reason if current else "the campaign vanished from the store"
        raise ApiError(f"Campaign {campaign_id} failed: {reason}")
    return state


def progress(store: RowStore, campaign_id: str, now: float) -> Progress:
    """A campaign's progress as the store tells it (the workers' runs have no runner here)."""
    from campaigns.dialing.runner import Progress

    counts = store.counts(campaign_id)
    started = sum(n for s, n in counts.items() if s not in NOT_STARTED)
    return Progress(
        counts, started, store.in_flight(campaign_id), store.next_pending_at(campaign_id), now
    )


def _state(store: RowStore, campaign_id: str) -> CampaignState:
    current = store.get_campaign(campaign_id)
    return current.state if current else CampaignState.FAILED
