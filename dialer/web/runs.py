"""Starting, stopping and resuming campaigns for the web page. No HTTP here: the page calls
these, and so can anything else in the `dialer serve` process.

A campaign started here is the one `dialer run` would start: the same id (the list's name and
content and the agent), the same store, the same engine. So `dialer status` and `dialer report`
see it, and running the same list from the command line resumes it rather than calling anyone
twice.

- Embedded mode: the campaign runs in a background thread of this process, with a `StopSignal`
  that Stop sets (no new calls; live calls followed to their end, as Ctrl-C does). Every run
  shares this process's limiter, so the account's limits hold across campaigns.
- Cluster mode (REDIS_URL): the campaign is submitted to the workers, as `dialer run --detach`
  does; Stop sets its state to `stopping`, as the CLI's Ctrl-C does, and the workers end it.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath

from campaigns.backends import Services
from campaigns.campaign import derive_campaign_id, load_policy, open_campaign
from campaigns.contacts import ContactList
from campaigns.engine import Engine
from campaigns.policy import DialPolicy
from campaigns.runner import RunEnd, Runner, StopSignal
from campaigns.store import CampaignMeta, CampaignState, RowStore
from dialer.clock import Clock
from dialer.errors import CampaignNotFound, DialerError, InputError
from dialer.launcher import unused_campaign_id
from dialer.web.uploads import display_basename

log = logging.getLogger("dialer.web.runs")

STOP_ALL_TIMEOUT_S = 10.0
LEFT_BY_SERVER = "dialer serve stopped while calls were live: resume the campaign to follow them"
CRASHED = "an unexpected error stopped the run: see dialer serve's log, then resume"

# Cluster submission, passed in: the real one needs Celery, imported only when it is used.
Submit = Callable[[Services, str], int]  # returns the worker processes listening


@dataclass(frozen=True)
class StartRequest:
    contacts: ContactList
    display_name: str  # the name the list was uploaded as: it names the campaign
    policy: DialPolicy
    campaign_id: str | None = None  # None: derived as `dialer run` derives it


class Notice(StrEnum):
    """What the person should know about a start (shown on the campaign's page)."""

    STARTED = "started"
    RESUMED = "resumed"
    ALREADY_RUNNING = "already-running"
    NO_WORKERS = "no-workers"  # cluster: submitted, but no worker listens yet


@dataclass(frozen=True)
class Started:
    campaign_id: str
    notice: Notice


def campaign_id_for(contacts: ContactList, display_name: str, agent_id: str) -> str:
    """`derive_campaign_id` for a list stored under a generated name: the digest of content and
    agent is the CLI's own; the stem comes from the name the person gave the file (the stored
    file's name is random), normalized as the CLI normalizes its file's stem."""
    digest = derive_campaign_id(contacts, agent_id).rsplit("-", 1)[1]
    stem = PurePosixPath(display_basename(display_name)).stem
    stem = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:40] or "list"
    return f"{stem}-{digest}"


class AlreadyFinished(InputError):
    pass


class CampaignRuns:
    def __init__(self, services: Services, clock: Clock, submit: Submit | None = None) -> None:
        self._services = services
        self._clock = clock
        self._submit = submit or _submit_to_workers
        self._lock = threading.Lock()  # one thread per campaign, whatever is clicked twice
        self._threads: dict[str, _EmbeddedRun] = {}

    @property
    def cluster(self) -> bool:
        return self._services.cluster

    @property
    def store(self) -> RowStore:
        return self._services.store

    def start(self, request: StartRequest) -> Started:
        policy = request.policy
        cid = request.campaign_id or campaign_id_for(
            request.contacts, request.display_name, policy.agent_id
        )
        if self.is_running_here(cid):
            return Started(cid, Notice.ALREADY_RUNNING)
        existing = self._services.store.get_campaign(cid)
        if existing is not None and existing.state is CampaignState.FINISHED:
            raise self._already_finished(cid)
        self._check_agent(policy.agent_id)
        open_campaign(self._services.store, cid, request.contacts, policy, self._clock.now())
        return self._go(cid, policy, Notice.RESUMED if existing else Notice.STARTED)

    def resume(self, cid: str) -> Started:
        meta = self.meta(cid)
        if meta.state is CampaignState.FINISHED:
            raise self._already_finished(cid)
        if self.is_running_here(cid):
            return Started(cid, Notice.ALREADY_RUNNING)
        policy = load_policy(meta)
        self._check_agent(policy.agent_id)
        self._services.store.update_campaign(cid, state=CampaignState.RUNNING, reason="")
        return self._go(cid, policy, Notice.RESUMED)

    def stop(self, cid: str) -> None:
        """No new calls; live calls are followed to their end, then the campaign is stopped."""
        meta = self.meta(cid)
        run = self._threads.get(cid)
        if not self.cluster and run is None:
            raise InputError(
                f"Campaign {cid} is not running in this server: stop it where it runs "
                "(Ctrl-C in the terminal of its `dialer run`)."
            )
        if meta.state is CampaignState.RUNNING:
            self._services.store.update_campaign(cid, state=CampaignState.STOPPING)
        if run is not None:
            run.stop.request()

    def is_running_here(self, cid: str) -> bool:
        run = self._threads.get(cid)
        return run is not None and run.thread.is_alive()

    def existing(self, cid: str) -> CampaignMeta | None:
        return self._services.store.get_campaign(cid)

    def meta(self, cid: str) -> CampaignMeta:
        meta = self._services.store.get_campaign(cid)
        if meta is None:
            raise CampaignNotFound(f"No campaign {cid!r}: pick one from the list of campaigns.")
        return meta

    def stop_all(self, timeout_s: float = STOP_ALL_TIMEOUT_S) -> None:
        """On shutdown: stop every run of this process, wait a little for live calls, and mark
        what is still running as stopped (resumable) rather than leave it `running`."""
        runs = list(self._threads.values())
        for run in runs:
            run.stop.request()
        deadline = self._clock.now() + timeout_s
        for run in runs:
            run.thread.join(max(deadline - self._clock.now(), 0.0))
            if run.thread.is_alive():
                run.record_end(CampaignState.STOPPED, LEFT_BY_SERVER)

    def _go(self, cid: str, policy: DialPolicy, notice: Notice) -> Started:
        if self.cluster:
            listening = self._submit(self._services, cid)
            return Started(cid, notice if listening else Notice.NO_WORKERS)
        with self._lock:
            if self.is_running_here(cid):
                return Started(cid, Notice.ALREADY_RUNNING)
            run = _EmbeddedRun(self._services, self._clock, cid, policy, self._forget)
            self._threads[cid] = run
            run.thread.start()
        return Started(cid, notice)

    def _forget(self, run: _EmbeddedRun) -> None:
        with self._lock:
            if self._threads.get(run.campaign_id) is run:
                del self._threads[run.campaign_id]

    def _check_agent(self, agent_id: str) -> None:
        """What `dialer run` checks first: the agent exists and is active (a 404 or a refused
        key is raised by the client, with its own message)."""
        self._services.settings.require_api_key()
        with self._services.client(self._clock) as client:
            agent = client.get_agent(agent_id)
        if not agent.is_active:
            raise InputError(
                f"Agent {agent_id} is {agent.status}, not active: activate it in Voxpria or "
                "choose another agent."
            )

    def _already_finished(self, cid: str) -> AlreadyFinished:
        new_id = unused_campaign_id(self._services.store, cid)
        return AlreadyFinished(
            f"Campaign {cid} has already finished: nobody was called again. To call the list "
            f"again, give it a new campaign id (for example {new_id}) under More options."
        )


class _EmbeddedRun:
    """One campaign driven to its end in a background thread of this process."""

    def __init__(
        self,
        services: Services,
        clock: Clock,
        campaign_id: str,
        policy: DialPolicy,
        on_end: Callable[[_EmbeddedRun], None],
    ) -> None:
        self.campaign_id = campaign_id
        self.stop = StopSignal()
        self._services = services
        self._clock = clock
        self._policy = policy
        self._on_end = on_end
        # daemon: a serve process that must exit at once is not held by a run (stop_all first)
        self.thread = threading.Thread(target=self._drive, name=f"run-{campaign_id}", daemon=True)

    def _drive(self) -> None:
        try:
            state, reason = self._run(), ""
        except DialerError as exc:  # a refused key, an unreachable API: the run cannot go on
            log.warning("campaign %s failed: %s", self.campaign_id, exc)
            state, reason = CampaignState.FAILED, str(exc)
        except Exception:
            log.exception("campaign %s crashed", self.campaign_id)
            state, reason = CampaignState.FAILED, CRASHED
        self.record_end(state, reason)
        self._on_end(self)

    def _run(self) -> CampaignState:
        services, cid = self._services, self.campaign_id
        owner = f"web-{uuid.uuid4().hex[:8]}"
        with services.client(self._clock) as client:
            engine = Engine(
                cid, self._policy, services.store, services.limiter, client, self._clock, owner
            )
            end = Runner(engine, self._clock).run(self.stop)
        return CampaignState.FINISHED if end is RunEnd.FINISHED else CampaignState.STOPPED

    def record_end(self, state: CampaignState, reason: str) -> None:
        try:
            self._services.store.update_campaign(
                self.campaign_id, state=state, reason=reason, ended_at=self._clock.now()
            )
        except Exception as exc:  # a store closed under us at shutdown: resuming repairs it
            log.warning("campaign %s: could not record its end (%s)", self.campaign_id, exc)


def _submit_to_workers(services: Services, cid: str) -> int:
    from workers.submission import submit_campaign  # only the cluster mode needs Celery

    return submit_campaign(services, cid).worker_processes
