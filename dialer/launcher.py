"""Running one campaign to its end and writing its report: what `dialer run` and a scheduled
run share. It prints to the console it is given and returns how the run ended; choosing exit
codes is the caller's business.

Embedded mode drives the engine in this process (`campaigns.runner`); cluster mode submits the
campaign to the workers and follows it through the store.
"""

from __future__ import annotations

import logging
import signal
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, TypeVar

from rich.console import Console
from rich.text import Text

from campaigns.attempts import ATTEMPT_COLUMNS, attempt_lines
from campaigns.campaign import open_campaign
from campaigns.contacts import ContactList
from campaigns.policy import DialPolicy
from campaigns.report import ReportInfo, write_report
from campaigns.report_records import StoredReport
from campaigns.store import CampaignMeta, CampaignState, NewRow, RowStatus, RowStore
from dialer.clock import Clock, SystemClock
from dialer.errors import ApiError, CampaignNotFound, DialerError, InputError, StoreError
from dialer.settings import Settings

if TYPE_CHECKING:  # imported where used: httpx, redis and the engine cost half of a start-up
    from campaigns.engine import Engine
    from campaigns.runner import Progress, StopSignal
    from dialer.client import VoxpriaClient
    from dialer.services import Services

log = logging.getLogger("dialer.launcher")

NO_WORKERS = (
    "No worker is consuming the queue at REDIS_URL yet: the campaign waits for one. Start "
    "workers with `dialer worker` (same REDIS_URL and VOXPRIA_API_KEY), e.g. "
    "`docker compose up -d --scale worker=2`."
)
LEFT_AT_ONCE = "stopped at once (Ctrl-C twice): live calls were not followed to their end"
WORKER_CHECK_EVERY_S = 30.0
OUTAGE_RETRY_S = 2.0
T = TypeVar("T")
_NOT_STARTED = (RowStatus.PENDING, RowStatus.INVALID, RowStatus.DUPLICATE, RowStatus.SUPPRESSED)
_NOT_CALLABLE = (RowStatus.INVALID, RowStatus.DUPLICATE, RowStatus.SUPPRESSED)


class Ended(StrEnum):
    FINISHED = "finished"  # every row final: the report is complete
    STOPPED = "stopped"  # Ctrl-C once: live calls followed to their end; resumable
    LEFT = "left"  # Ctrl-C twice: left at once; resumable
    ALREADY_FINISHED = "already_finished"  # nothing to do: the report was written again
    DETACHED = "detached"  # cluster --detach: submitted, not followed


@dataclass
class Launch:
    """One run's inputs. `resume_command(campaign_id)` is the command a person types to resume
    it (or to call the list again under a new id)."""

    settings: Settings
    contacts: ContactList
    policy: DialPolicy
    campaign_id: str
    report: Path
    resume_command: Callable[[str], str]
    quiet: bool = False
    detach: bool = False
    rows: Callable[[], Iterable[NewRow]] | None = None  # default: the list's rows
    console: Console = field(default_factory=Console)
    csv_raw: bool = False  # --csv-raw: CSV cells exactly as read, formula-looking ones included

    def say(self, message: str | Text) -> None:
        """Print as it is: paths, ids and API text are never read as rich markup, and lines
        are never hard-wrapped (logs, long paths)."""
        self.console.print(message, markup=False, highlight=False, soft_wrap=True)


def launch(job: Launch) -> Ended:
    from dialer.services import check_durable, open_services

    clock = SystemClock()
    services = open_services(job.settings, clock)
    try:
        if services.redis is not None and not job.settings.allow_volatile_redis:
            check_durable(services.redis)
        with services.client(clock) as client:
            _preflight(job, client)
            rows = job.rows() if job.rows else None
            opened = open_campaign(
                services.store, job.campaign_id, job.contacts, job.policy, clock.now(), rows
            )
            if opened.meta.state is CampaignState.FINISHED:
                _already_finished(job, services.store, opened.meta)
                return Ended.ALREADY_FINISHED
            if not job.quiet:
                verb = "Resuming" if opened.resumed else "Starting"
                job.say(f"{verb} campaign {job.campaign_id}")
            try:
                if services.cluster:
                    end = _run_cluster(job, services, opened.meta)
                else:
                    end = _run_embedded(job, services, client, opened.meta)
            except DialerError:
                write_campaign_report(
                    services.store, job.campaign_id, job.report, csv_raw=job.csv_raw
                )
                job.say(f"Report: {job.report}")  # every row says where it stands
                raise
            if end is not Ended.DETACHED:
                _finish(job, services.store, end)
            return end
    finally:
        services.close()


def _preflight(job: Launch, client: VoxpriaClient) -> None:
    agent_id = job.policy.agent_id
    agent = client.get_agent(agent_id)
    if not agent.is_active:
        raise InputError(
            f"--agent {agent_id}: the agent is {agent.status}, not active. Activate it in "
            "Voxpria or choose another agent."
        )
    credits = client.get_credits()
    if not job.quiet:
        balance = "unknown" if credits.balance is None else f"{credits.balance:g}"
        job.say(
            f"Agent {agent_id} ({agent.name or 'unnamed'}) is active; credit balance "
            f"{balance} {credits.currency or ''}".rstrip()
        )
    if credits.balance is not None and credits.balance <= 0:
        job.say(
            Text.assemble(("warning:", "yellow"), " the credit balance is 0: calls may be refused.")
        )


def callable_rows(store: RowStore, cid: str) -> int:
    return sum(n for s, n in store.counts(cid).items() if s not in _NOT_CALLABLE)


def _run_cluster(job: Launch, services: Services, meta: CampaignMeta) -> Ended:
    from dialer.progress import ProgressView
    from workers.submission import submit_campaign, workers_listening

    store, cid, clock = services.store, meta.campaign_id, SystemClock()
    submitted = submit_campaign(services, cid)
    if submitted.worker_processes == 0:
        job.say(NO_WORKERS)
    if job.detach:
        return Ended.DETACHED
    view = ProgressView(job.console, callable_rows(store, cid), quiet=job.quiet)
    stop = _stop_signal()
    next_worker_check = clock.now() + WORKER_CHECK_EVERY_S

    def follow() -> CampaignState:
        nonlocal next_worker_check
        state = _state(store, cid)
        if state not in (CampaignState.RUNNING, CampaignState.STOPPING):
            return state
        if stop.requested and state is CampaignState.RUNNING:
            store.update_campaign(cid, state=CampaignState.STOPPING)
        view.update(_cluster_progress(store, cid, clock.now()))
        if clock.now() >= next_worker_check:
            next_worker_check = clock.now() + WORKER_CHECK_EVERY_S
            if not workers_listening(services):
                job.say(NO_WORKERS)
        return state

    try:
        with _signals_stop(stop, job, store, cid):
            while (state := through_outages(follow, job.say, clock)) in (
                CampaignState.RUNNING,
                CampaignState.STOPPING,
            ):
                clock.sleep(1.0)
    except KeyboardInterrupt:  # Ctrl-C twice: the workers go on stopping the campaign
        return Ended.LEFT
    finally:
        view.close()
    if state is CampaignState.FAILED:
        current = store.get_campaign(cid)
        reason = current.reason if current else "the campaign vanished from the store"
        raise ApiError(f"Campaign {cid} failed: {reason}")
    return Ended.FINISHED if state is CampaignState.FINISHED else Ended.STOPPED


def _outage_errors() -> tuple[type[BaseException], ...]:
    import redis
    from kombu.exceptions import OperationalError

    return (redis.RedisError, StoreError, OperationalError)


def through_outages(
    step: Callable[[], T],
    say: Callable[[str], None],
    clock: Clock,
    give_up_s: float | None = None,
) -> T:
    """`step()`, waiting out a Redis outage (said once, and when it ends) instead of failing:
    the campaign itself goes on by itself once Redis and a worker are back."""
    errors = _outage_errors()
    down_since: float | None = None
    while True:
        try:
            result = step()
        except errors as exc:
            if down_since is None:
                down_since = clock.now()
                say(
                    f"Redis (REDIS_URL) cannot be reached ({_first_line(exc)}): waiting for it "
                    "to come back. The campaign goes on by itself once Redis and a worker are "
                    "back; Ctrl-C leaves."
                )
            if give_up_s is not None and clock.now() - down_since > give_up_s:
                raise StoreError(
                    f"Redis (REDIS_URL) stayed unreachable for {give_up_s:g} s: start it again "
                    "(docker compose up -d redis), then run the command again."
                ) from exc
            clock.sleep(OUTAGE_RETRY_S)
            continue
        if down_since is not None:
            say(f"Redis is back after {clock.now() - down_since:.0f} s.")
        return result


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]


def _state(store: RowStore, cid: str) -> CampaignState:
    current = store.get_campaign(cid)
    return current.state if current else CampaignState.FAILED


def _cluster_progress(store: RowStore, cid: str, now: float) -> Progress:
    from campaigns.runner import Progress

    counts = store.counts(cid)
    started = sum(n for s, n in counts.items() if s not in _NOT_STARTED)
    return Progress(counts, started, store.in_flight(cid), store.next_pending_at(cid), now)


def _run_embedded(
    job: Launch, services: Services, client: VoxpriaClient, meta: CampaignMeta
) -> Ended:
    from campaigns.engine import Engine
    from campaigns.runner import RunEnd, Runner
    from dialer.progress import ProgressView

    clock = SystemClock()
    store, cid = services.store, meta.campaign_id
    owner = f"embedded-{uuid.uuid4().hex[:8]}"
    engine = Engine(cid, job.policy, store, services.limiter, client, clock, owner)
    view = ProgressView(job.console, callable_rows(store, cid), quiet=job.quiet)
    stop = _stop_signal()
    try:
        with _signals_stop(stop, job, store, cid):
            end = Runner(engine, clock, on_progress=view.update).run(stop)
    except KeyboardInterrupt:  # Ctrl-C twice
        view.close()
        _mark_left_at_once(engine, clock.now())
        return Ended.LEFT
    except DialerError as exc:
        store.update_campaign(
            cid, state=CampaignState.FAILED, reason=str(exc), ended_at=clock.now()
        )
        raise
    finally:
        view.close()
    state = CampaignState.FINISHED if end is RunEnd.FINISHED else CampaignState.STOPPED
    store.update_campaign(cid, state=state, ended_at=clock.now())
    return Ended.FINISHED if end is RunEnd.FINISHED else Ended.STOPPED


def _mark_left_at_once(engine: Engine, now: float) -> None:
    """Record that the run stopped (so `dialer status` and the report say so). Best effort:
    the interrupt may have cut a store write short."""
    try:
        engine.store.update_campaign(
            engine.campaign_id, state=CampaignState.STOPPED, reason=LEFT_AT_ONCE, ended_at=now
        )
    except Exception as exc:  # the store itself was interrupted: leave it as it is
        log.debug("after Ctrl-C twice: %s", exc)


def _stop_signal() -> StopSignal:
    from campaigns.runner import StopSignal

    return StopSignal()


@contextmanager
def _signals_stop(stop: StopSignal, job: Launch, store: RowStore, cid: str) -> Iterator[None]:
    """Ctrl-C (or SIGTERM, as `docker stop` sends) once: no new calls, live ones followed to
    their end. Twice: leave at once."""

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.requested:
            raise KeyboardInterrupt
        stop.request()
        try:
            live = f"{store.in_flight(cid)} live calls"
        except Exception:  # Redis away: the count can wait, the stop cannot
            live = "the live calls"
        job.say(
            f"\nStopping: no new calls; waiting for {live} to end. "
            "Press Ctrl-C again to leave at once."
        )

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def write_campaign_report(
    store: RowStore, cid: str, report: Path, *, csv_raw: bool = False
) -> dict[str, int]:
    meta = store.get_campaign(cid)
    if meta is None:
        raise CampaignNotFound(f"No campaign {cid} in the store.")
    rows = StoredReport(store, cid, meta.state, meta.reason)
    attempts = (list(ATTEMPT_COLUMNS), attempt_lines(store, meta))  # the XLSX's Attempts sheet
    return write_report(
        report, meta.headers, rows, ReportInfo.from_meta(meta), csv_raw=csv_raw, attempts=attempts
    )


def _finish(job: Launch, store: RowStore, end: Ended) -> None:
    from dialer.progress import summary_table

    cid = job.campaign_id
    try:
        counts = write_campaign_report(store, cid, job.report, csv_raw=job.csv_raw)
    except DialerError as exc:
        if end is not Ended.LEFT:
            raise
        job.say(f"The report was not written ({exc}).")  # an interrupted store
    else:
        if not job.quiet:
            job.console.print(summary_table(counts, f"Campaign {cid}"))
        job.say(f"Report: {job.report}")
    if end is Ended.STOPPED:
        meta = store.get_campaign(cid)
        why = f" ({meta.reason})" if meta is not None and meta.reason else ""
        job.say(f"Stopped{why}. To resume: {job.resume_command(cid)}")
    elif end is Ended.LEFT:
        live = store.in_flight(cid)
        followed = f"the {live} calls still live and " if live else ""
        job.say(
            f"Stopped at once. To follow {followed}call the rest, resume: {job.resume_command(cid)}"
        )


def _already_finished(job: Launch, store: RowStore, meta: CampaignMeta) -> None:
    write_campaign_report(store, meta.campaign_id, job.report, csv_raw=job.csv_raw)
    job.say(
        f"Campaign {meta.campaign_id} has already finished: nobody was called. Report written "
        f"again: {job.report}\nTo call the list again, give it a new id: "
        f"{job.resume_command(unused_campaign_id(store, meta.campaign_id))}"
    )


def unused_campaign_id(store: RowStore, campaign_id: str) -> str:
    n = 2
    while store.get_campaign(f"{campaign_id}-{n}") is not None:
        n += 1
    return f"{campaign_id}-{n}"
