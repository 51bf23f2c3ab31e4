"""How `dialer run` and `dialer run-scheduled` show a campaign's run in the terminal: the
preflight's line, the live progress, Ctrl-C (once: stop; twice: leave at once), the summary and
the command that resumes it. Presentation only: opening, running, stopping and finishing the
campaign are the campaign service's (campaigns/service/). It returns how the run ended;
choosing exit codes is the caller's business.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from campaigns.dialing.policy import DialPolicy
from campaigns.lists.contacts import ContactList
from campaigns.service import (
    NO_WORKERS,
    CampaignRequest,
    CampaignService,
    Ended,
    Opened,
    Preflight,
)
from campaigns.store.rows import NewRow
from dialer.cli.console import say, warning_text
from dialer.clock import SystemClock
from dialer.errors import DialerError
from dialer.settings import Settings

if TYPE_CHECKING:  # imported where used: httpx, redis and the engine cost half of a start-up
    from campaigns.dialing.runner import StopSignal
    from dialer.voxpria.client import VoxpriaClient
    from workers.submission import CelerySubmission


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

    @property
    def request(self) -> CampaignRequest:
        return CampaignRequest(self.campaign_id, self.contacts, self.policy, self.rows)

    def say(self, message: str | Text) -> None:
        say(self.console, message)


def launch(job: Launch) -> Ended:
    from campaigns.backends import check_durable, open_services

    clock = SystemClock()
    services = open_services(job.settings, clock)
    try:
        if services.redis is not None and not job.settings.allow_volatile_redis:
            check_durable(services.redis)
        service = CampaignService(services, clock, _submission() if services.cluster else None)
        with services.client(clock) as client:
            _show_preflight(job, service.preflight(client, job.policy.agent_id))
            opened = service.open(job.request)
            if opened.already_finished:
                _already_finished(job, service, opened)
                return Ended.ALREADY_FINISHED
            if not job.quiet:
                verb = "Resuming" if opened.resumed else "Starting"
                job.say(f"{verb} campaign {job.campaign_id}")
            try:
                if service.cluster:
                    end = _run_cluster(job, service)
                else:
                    end = _run_embedded(job, service, client)
            except DialerError:
                service.write_report(job.campaign_id, job.report, csv_raw=job.csv_raw)
                job.say(f"Report: {job.report}")  # every row says where it stands
                raise
            if end is not Ended.DETACHED:
                _finish(job, service, end)
            return end
    finally:
        services.close()


def _submission() -> CelerySubmission:
    from workers.submission import CelerySubmission

    return CelerySubmission()


def _show_preflight(job: Launch, preflight: Preflight) -> None:
    credits = preflight.credits
    if credits is None:
        return
    if not job.quiet:
        agent = preflight.agent
        balance = "unknown" if credits.balance is None else f"{credits.balance:g}"
        job.say(
            f"Agent {job.policy.agent_id} ({agent.name or 'unnamed'}) is active; credit balance "
            f"{balance} {credits.currency or ''}".rstrip()
        )
    if credits.balance is not None and credits.balance <= 0:
        job.say(warning_text("the credit balance is 0: calls may be refused."))


def _run_cluster(job: Launch, service: CampaignService) -> Ended:
    from campaigns.dialing.runner import StopSignal
    from dialer.cli.progress import ProgressView

    cid = job.campaign_id
    if service.submit(cid) == 0:
        job.say(NO_WORKERS)
    if job.detach:
        return Ended.DETACHED
    view = ProgressView(job.console, service.callable_rows(cid), quiet=job.quiet)
    stop = StopSignal()
    try:
        with _signals_stop(stop, job, service):
            return service.follow(cid, stop, job.say, on_progress=view.update)
    finally:
        view.close()


def _run_embedded(job: Launch, service: CampaignService, client: VoxpriaClient) -> Ended:
    from campaigns.dialing.runner import StopSignal
    from dialer.cli.progress import ProgressView

    cid = job.campaign_id
    view = ProgressView(job.console, service.callable_rows(cid), quiet=job.quiet)
    stop = StopSignal()
    try:
        with _signals_stop(stop, job, service):
            return service.run_embedded(
                cid, job.policy, stop, client=client, on_progress=view.update
            )
    finally:
        view.close()


@contextmanager
def _signals_stop(stop: StopSignal, job: Launch, service: CampaignService) -> Iterator[None]:
    """Ctrl-C (or SIGTERM, as `docker stop` sends) once: the service stops the campaign (no new
    calls, live ones followed to their end). Twice: leave at once."""
    cid = job.campaign_id

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.requested:
            raise KeyboardInterrupt
        service.stop(cid, record=False)  # a handler writes nothing: the run records the stop
        try:
            live = f"{service.store.in_flight(cid)} live calls"
        except Exception:  # Redis away: the count can wait, the stop cannot
            live = "the live calls"
        job.say(
            f"\nStopping: no new calls; waiting for {live} to end. "
            "Press Ctrl-C again to leave at once."
        )

    with on_stop_signals(handler):
        yield


@contextmanager
def on_stop_signals(handler: Callable[[int, FrameType | None], None]) -> Iterator[None]:
    """`handler` for Ctrl-C (SIGINT) and SIGTERM (`docker stop`) while the block runs, set even
    where the process inherited SIGINT ignored; the previous handlers back after it."""
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _finish(job: Launch, service: CampaignService, end: Ended) -> None:
    from dialer.cli.progress import summary_table

    cid = job.campaign_id
    try:
        counts = service.write_report(cid, job.report, csv_raw=job.csv_raw)
    except DialerError as exc:
        if end is not Ended.LEFT:
            raise
        job.say(f"The report was not written ({exc}).")  # an interrupted store
    else:
        if not job.quiet:
            job.console.print(summary_table(counts, f"Campaign {cid}"))
        job.say(f"Report: {job.report}")
    if end is Ended.STOPPED:
        meta = service.existing(cid)
        why = f" ({meta.reason})" if meta is not None and meta.reason else ""
        job.say(f"Stopped{why}. To resume: {job.resume_command(cid)}")
    elif end is Ended.LEFT:
        live = service.store.in_flight(cid)
        followed = f"the {live} calls still live and " if live else ""
        job.say(
            f"Stopped at once. To follow {followed}call the rest, resume: {job.resume_command(cid)}"
        )


def _already_finished(job: Launch, service: CampaignService, opened: Opened) -> None:
    cid = opened.meta.campaign_id
    service.write_report(cid, job.report, csv_raw=job.csv_raw)
    job.say(
        f"Campaign {cid} has already finished: nobody was called. Report written "
        f"again: {job.report}\nTo call the list again, give it a new id: "
        f"{job.resume_command(opened.new_id)}"
    )
