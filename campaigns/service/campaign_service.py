"""The campaign service itself: every door's way to a campaign (see the package's docstring)."""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from campaigns.dialing.campaign import load_policy
from campaigns.dialing.policy import DialPolicy
from campaigns.service.cluster import OnProgress, Say, Submission, follow, progress
from campaigns.service.opening import (
    CampaignRequest,
    Opened,
    open_request,
    opened_as,
    unused_campaign_id,
)
from campaigns.service.reports import write_campaign_report
from campaigns.store.rows import (
    LIVE_STATES,
    NOT_CALLABLE,
    CampaignMeta,
    CampaignState,
    RowStore,
)
from dialer.clock import Clock
from dialer.errors import CampaignNotFound, DialerError, InputError
from dialer.metrics import NO_METRICS, Recorder

if TYPE_CHECKING:  # imported where used: httpx, redis and the engine cost half of a start-up
    from campaigns.backends import Services
    from campaigns.dialing.engine import Engine
    from campaigns.dialing.runner import Progress, StopSignal
    from dialer.voxpria.client import VoxpriaClient
    from dialer.voxpria.models import Agent, Credits

log = logging.getLogger("campaigns.service")

LEFT_AT_ONCE = "stopped at once (Ctrl-C twice): live calls were not followed to their end"


class Ended(StrEnum):
    FINISHED = "finished"  # every row final: the report is complete
    STOPPED = "stopped"  # stopped: live calls followed to their end; resumable
    LEFT = "left"  # left at once (Ctrl-C twice); resumable
    ALREADY_FINISHED = "already_finished"  # nothing to do
    DETACHED = "detached"  # cluster: submitted, not followed


@dataclass(frozen=True)
class Preflight:
    agent: Agent
    credits: Credits | None  # None: not asked


class NotRunningHere(InputError):
    pass


class CampaignService:
    """Every door's way to a campaign. `submission` is needed in cluster mode only."""

    def __init__(
        self, services: Services, clock: Clock, submission: Submission | None = None
    ) -> None:
        self.services = services
        self.clock = clock
        self._submission = submission
        self._lock = threading.Lock()
        self._local: dict[str, StopSignal] = {}  # runs of this process, by campaign id

    @property
    def cluster(self) -> bool:
        return self.services.cluster

    @property
    def store(self) -> RowStore:
        return self.services.store

    # --- open or resume ------------------------------------------------------------------------

    def existing(self, campaign_id: str) -> CampaignMeta | None:
        return self.store.get_campaign(campaign_id)

    def meta(self, campaign_id: str) -> CampaignMeta:
        meta = self.store.get_campaign(campaign_id)
        if meta is None:
            raise CampaignNotFound(
                f"No campaign {campaign_id!r}: pick one from the list of campaigns."
            )
        return meta

    def open(self, request: CampaignRequest) -> Opened:
        """Create the campaign (every row of its list) or resume the stored one with the policy
        given now; a finished one is left as it is (`Opened.already_finished`)."""
        return open_request(self.store, request, self.clock.now())

    def resume(self, campaign_id: str) -> tuple[Opened, DialPolicy]:
        """The stored campaign set running again with its stored policy (nothing of its list is
        read); a finished one is left as it is."""
        meta = self.meta(campaign_id)
        policy = load_policy(meta)
        if meta.state is not CampaignState.FINISHED:
            self.store.update_campaign(campaign_id, state=CampaignState.RUNNING, reason="")
            meta.state = CampaignState.RUNNING
        return self._opened(meta, True), policy

    def stored_policy(self, campaign_id: str) -> DialPolicy:
        return load_policy(self.meta(campaign_id))

    def unused_id(self, campaign_id: str) -> str:
        """An id no campaign has, to call a finished campaign's list again under."""
        return unused_campaign_id(self.store, campaign_id)

    def _opened(self, meta: CampaignMeta, resumed: bool) -> Opened:
        return opened_as(self.store, meta, resumed)

    # --- preflight -----------------------------------------------------------------------------

    def preflight(
        self, client: VoxpriaClient, agent_id: str, *, credits: bool = True, name: str = "--agent"
    ) -> Preflight:
        """The agent exists and is active (a 404 or a refused key is raised by the client, with
        its own message); the credit balance when `credits`. `name`: the agent's option, as the
        door names it."""
        agent = client.get_agent(agent_id)
        if not agent.is_active:
            raise InputError(
                f"{name} {agent_id}: the agent is {agent.status}, not active. Activate it in "
                "Voxpria or choose another agent."
            )
        return Preflight(agent, client.get_credits() if credits else None)

    # --- run embedded --------------------------------------------------------------------------

    def engine(
        self,
        campaign_id: str,
        policy: DialPolicy,
        client: VoxpriaClient,
        owner: str,
        metrics: Recorder = NO_METRICS,
    ) -> Engine:
        from campaigns.dialing.engine import Engine

        services = self.services
        return Engine(
            campaign_id,
            policy,
            services.store,
            services.limiter,
            client,
            self.clock,
            owner,
            metrics=metrics,
        )

    def engine_for(
        self, meta: CampaignMeta, client: VoxpriaClient, owner: str, metrics: Recorder
    ) -> Engine:
        """The engine of a stored campaign, dialing with its stored policy (a worker's shift)."""
        return self.engine(meta.campaign_id, load_policy(meta), client, owner, metrics)

    def live(self, campaign_id: str) -> CampaignMeta | None:
        """The campaign when it is running or stopping (it has work for a shift), else None."""
        meta = self.store.get_campaign(campaign_id)
        return meta if meta is not None and meta.state in LIVE_STATES else None

    def live_campaigns(self) -> list[CampaignMeta]:
        return [meta for meta in self.store.list_campaigns() if meta.state in LIVE_STATES]

    def run_embedded(
        self,
        campaign_id: str,
        policy: DialPolicy,
        stop: StopSignal,
        *,
        client: VoxpriaClient | None = None,
        on_progress: OnProgress | None = None,
        owner_prefix: str = "embedded",
    ) -> Ended:
        """Drive the campaign to its end in this process and record how it ended: finished,
        stopped (`stop`, or the spend guard), left at once (an interrupt: KeyboardInterrupt),
        failed (a DialerError, raised again). `client`: default one of the backends'."""
        if client is None:
            with self.services.client(self.clock) as own:
                return self.run_embedded(
                    campaign_id,
                    policy,
                    stop,
                    client=own,
                    on_progress=on_progress,
                    owner_prefix=owner_prefix,
                )
        from campaigns.dialing.runner import RunEnd, Runner

        owner = f"{owner_prefix}-{uuid.uuid4().hex[:8]}"
        engine = self.engine(campaign_id, policy, client, owner)
        try:  # the run is no longer this process's (is_running_here) when its end is recorded
            with self._running_here(campaign_id, stop):
                end = Runner(engine, self.clock, on_progress=on_progress).run(stop)
        except KeyboardInterrupt:  # Ctrl-C twice
            self.record_end(campaign_id, CampaignState.STOPPED, LEFT_AT_ONCE)
            return Ended.LEFT
        except DialerError as exc:
            self.record_end(campaign_id, CampaignState.FAILED, str(exc))
            raise
        finished = end is RunEnd.FINISHED
        self.record_end(campaign_id, CampaignState.FINISHED if finished else CampaignState.STOPPED)
        return Ended.FINISHED if finished else Ended.STOPPED

    def record_end(self, campaign_id: str, state: CampaignState, reason: str | None = None) -> None:
        """Record how a run of this process ended (no `reason`: the one set on the way, the
        spend guard's, is kept). Best effort: an interrupt or a shutdown may have cut the store
        short, and resuming repairs it."""
        fields: dict[str, object] = {} if reason is None else {"reason": reason}
        try:
            self.store.update_campaign(
                campaign_id, state=state, ended_at=self.clock.now(), **fields
            )
        except Exception as exc:
            log.warning("campaign %s: could not record its end (%s)", campaign_id, exc)

    def register(self, campaign_id: str, stop: StopSignal) -> None:
        """A run of this process starts: `stop(campaign_id)` requests `stop`."""
        with self._lock:
            self._local[campaign_id] = stop

    def forget(self, campaign_id: str, stop: StopSignal) -> None:
        with self._lock:
            if self._local.get(campaign_id) is stop:
                del self._local[campaign_id]

    def _running_here(self, campaign_id: str, stop: StopSignal) -> _Registered:
        return _Registered(self, campaign_id, stop)

    def is_running_here(self, campaign_id: str) -> bool:
        return campaign_id in self._local

    # --- the cluster ---------------------------------------------------------------------------

    def submit(self, campaign_id: str) -> int:
        """Hand the campaign to the workers; returns the worker processes listening."""
        return self._cluster().submit(self.services, campaign_id)

    def follow(
        self,
        campaign_id: str,
        stop: StopSignal,
        say: Say,
        on_progress: OnProgress | None = None,
    ) -> Ended:
        """Follow a submitted campaign through the store until it ends, waiting out Redis
        outages. `stop` requested: the campaign is set stopping (the workers end it). An
        interrupt while following leaves it to the workers (Ended.LEFT)."""
        submission = self._cluster()
        try:
            with self._running_here(campaign_id, stop):
                state = follow(
                    self.services, submission, self.clock, campaign_id, stop, say, on_progress
                )
        except KeyboardInterrupt:  # Ctrl-C twice: the workers go on stopping the campaign
            return Ended.LEFT
        return Ended.FINISHED if state is CampaignState.FINISHED else Ended.STOPPED

    def progress(self, campaign_id: str) -> Progress:
        return progress(self.store, campaign_id, self.clock.now())

    def callable_rows(self, campaign_id: str) -> int:
        return sum(n for s, n in self.store.counts(campaign_id).items() if s not in NOT_CALLABLE)

    def _cluster(self) -> Submission:
        if self._submission is None or not self.cluster:
            raise RuntimeError("the cluster mode needs REDIS_URL and a Submission")
        return self._submission

    # --- stop ----------------------------------------------------------------------------------

    def stop(self, campaign_id: str, *, record: bool = True) -> None:
        """No new calls; live calls are followed to their end, then the campaign is stopped. A
        run of this process is told by its StopSignal; on the cluster the state `stopping`
        tells the workers. `record=False` (a signal handler, which must not write to the
        store): only the run of this process is told, and it records the stop itself."""
        local = self._local.get(campaign_id)
        if local is not None:
            local.request()
        elif not self.cluster:
            self.meta(campaign_id)
            raise NotRunningHere(
                f"Campaign {campaign_id} is not running in this server: stop it where it runs "
                "(Ctrl-C in the terminal of its `dialer run`)."
            )
        if record and self.meta(campaign_id).state is CampaignState.RUNNING:
            self.store.update_campaign(campaign_id, state=CampaignState.STOPPING)

    # --- finish --------------------------------------------------------------------------------

    def write_report(
        self, campaign_id: str, report: Path, *, csv_raw: bool = False
    ) -> dict[str, int]:
        return write_campaign_report(self.store, campaign_id, report, csv_raw=csv_raw)


class _Registered:
    """While a run of this process is on, its StopSignal is the service's to request."""

    def __init__(self, service: CampaignService, campaign_id: str, stop: StopSignal) -> None:
        self._service, self._cid, self._stop = service, campaign_id, stop

    def __enter__(self) -> None:
        self._service.register(self._cid, self._stop)

    def __exit__(self, *exc: object) -> None:
        self._service.forget(self._cid, self._stop)
