"""Starting, stopping and resuming campaigns for the web page. No HTTP here: the page calls
these, and so can anything else in the `dialer serve` process.

The campaign logic is the campaign service's (campaigns/service/), the one `dialer run`, the
schedules and the workers use: the same id (the list's name and content and the agent), the
same store, the same engine. So `dialer status` and `dialer report` see a campaign started here,
and running the same list from the command line resumes it rather than calling anyone twice.
What is left here is hosting and the page's words:

- Embedded mode: the campaign runs in a background thread of this process, with a `StopSignal`
  that Stop requests through the service (no new calls; live calls followed to their end, as
  Ctrl-C does). Every run shares this process's limiter, so the account's limits hold across
  campaigns.
- Cluster mode (REDIS_URL): the service submits the campaign to the workers, as `dialer run
  --detach` does; Stop sets its state to `stopping`, as the CLI's Ctrl-C does, and the workers
  end it.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath

from campaigns.backends import Services
from campaigns.dialing.campaign import derive_campaign_id
from campaigns.dialing.policy import DialPolicy
from campaigns.dialing.runner import StopSignal
from campaigns.lists.contacts import ContactList
from campaigns.service import CampaignRequest, CampaignService, Submission
from campaigns.store.rows import CampaignMeta, CampaignState, RowStore
from dialer.clock import Clock
from dialer.errors import DialerError, InputError
from dialer.web.uploads import display_basename

log = logging.getLogger(__name__)

STOP_ALL_TIMEOUT_S = 10.0
LEFT_BY_SERVER = "dialer serve stopped while calls were live: resume the campaign to follow them"
CRASHED = "an unexpected error stopped the run: see dialer serve's log, then resume"


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
    def __init__(
        self, services: Services, clock: Clock, submission: Submission | None = None
    ) -> None:
        if submission is None and services.cluster:
            submission = _celery_submission()
        self.service = CampaignService(services, clock, submission)
        self._clock = clock
        self._lock = threading.Lock()  # one thread per campaign, whatever is clicked twice
        self._threads: dict[str, _EmbeddedRun] = {}

    @property
    def cluster(self) -> bool:
        return self.service.cluster

    @property
    def store(self) -> RowStore:
        return self.service.store

    def start(self, request: StartRequest) -> Started:
        policy = request.policy
        cid = request.campaign_id or campaign_id_for(
            request.contacts, request.display_name, policy.agent_id
        )
        if self.is_running_here(cid):
            return Started(cid, Notice.ALREADY_RUNNING)
        existing = self.service.existing(cid)
        if existing is not None and existing.state is CampaignState.FINISHED:
            raise self._already_finished(cid)
        self._check_agent(policy.agent_id)
        opened = self.service.open(CampaignRequest(cid, request.contacts, policy))
        if opened.already_finished:  # finished in between
            raise self._already_finished(cid)
        return self._go(cid, policy, Notice.RESUMED if opened.resumed else Notice.STARTED)

    def resume(self, cid: str) -> Started:
        meta = self.meta(cid)
        if meta.state is CampaignState.FINISHED:
            raise self._already_finished(cid)
        if self.is_running_here(cid):
            return Started(cid, Notice.ALREADY_RUNNING)
        self._check_agent(self.service.stored_policy(cid).agent_id)
        opened, policy = self.service.resume(cid)
        if opened.already_finished:
            raise self._already_finished(cid)
        return self._go(cid, policy, Notice.RESUMED)

    def stop(self, cid: str) -> None:
        """No new calls; live calls are followed to their end, then the campaign is stopped."""
        self.service.stop(cid)

    def is_running_here(self, cid: str) -> bool:
        """A thread of this server drives it (the service forgets it before its end is
        recorded, so a campaign whose state says it ended is not running here)."""
        run = self._threads.get(cid)
        return run is not None and run.thread.is_alive() and self.service.is_running_here(cid)

    def existing(self, cid: str) -> CampaignMeta | None:
        return self.service.existing(cid)

    def meta(self, cid: str) -> CampaignMeta:
        return self.service.meta(cid)

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
                self.service.record_end(run.campaign_id, CampaignState.STOPPED, LEFT_BY_SERVER)

    def _go(self, cid: str, policy: DialPolicy, notice: Notice) -> Started:
        if self.cluster:
            listening = self.service.submit(cid)
            return Started(cid, notice if listening else Notice.NO_WORKERS)
        with self._lock:
            if self.is_running_here(cid):
                return Started(cid, Notice.ALREADY_RUNNING)
            run = _EmbeddedRun(self.service, cid, policy, self._forget)
            self._threads[cid] = run
            self.service.register(cid, run.stop)  # Stop finds it from the first moment
            run.thread.start()
        return Started(cid, notice)

    def _forget(self, run: _EmbeddedRun) -> None:
        with self._lock:
            if self._threads.get(run.campaign_id) is run:
                del self._threads[run.campaign_id]
            self.service.forget(run.campaign_id, run.stop)

    def _check_agent(self, agent_id: str) -> None:
        """What `dialer run` checks first: the agent exists and is active."""
        services = self.service.services
        services.settings.require_api_key()
        with services.client(self._clock) as client:
            self.service.preflight(client, agent_id, credits=False, name="Agent")

    def _already_finished(self, cid: str) -> AlreadyFinished:
        return AlreadyFinished(
            f"Campaign {cid} has already finished: nobody was called again. To call the list "
            f"again, give it a new campaign id (for example {self.service.unused_id(cid)}) "
            "under More options."
        )


class _EmbeddedRun:
    """One campaign driven to its end by the service in a background thread of this process."""

    def __init__(
        self,
        service: CampaignService,
        campaign_id: str,
        policy: DialPolicy,
        on_end: Callable[[_EmbeddedRun], None],
    ) -> None:
        self.campaign_id = campaign_id
        self.stop = StopSignal()
        self._service = service
        self._policy = policy
        self._on_end = on_end
        # daemon: a serve process that must exit at once is not held by a run (stop_all first)
        self.thread = threading.Thread(target=self._drive, name=f"run-{campaign_id}", daemon=True)

    def _drive(self) -> None:
        cid = self.campaign_id
        try:  # the service records how the run ended
            self._service.run_embedded(cid, self._policy, self.stop, owner_prefix="web")
        except DialerError as exc:  # a refused key, an unreachable API: the run cannot go on
            log.warning("campaign %s failed: %s", cid, exc)
        except Exception:
            log.exception("campaign %s crashed", cid)
            self._service.record_end(cid, CampaignState.FAILED, CRASHED)
        self._on_end(self)


def _celery_submission() -> Submission:
    from workers.submission import CelerySubmission  # only the cluster mode needs Celery

    return CelerySubmission()
