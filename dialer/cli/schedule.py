"""Scheduled campaigns on the command line: `dialer schedule check FILE`, `dialer beat FILE`,
`dialer run-scheduled FILE NAME [--date D]` and `dialer export NAME --since D ...`.

Registered on the `dialer` group by dialer.cli. Errors are DialerErrors, which `dialer.cli.main`
turns into one message and an exit code (2 for what the user must fix). The campaign file's
format is described in campaigns/schedule/schedule_file.py.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click
from rich.console import Console

from campaigns.report.output import check_report_path
from campaigns.schedule.schedule_file import ScheduleFile, load_schedule_file
from campaigns.schedule.scheduled_campaign import ScheduledCampaign
from campaigns.service import Ended, write_campaign_report
from dialer.beat.scheduled_run import DayRun, RunOptions, Skipped, prepare
from dialer.cli.console import say
from dialer.cli.run import launch, on_stop_signals
from dialer.clock import Clock, SystemClock
from dialer.durations import iso_utc_text, local_text, utc_text
from dialer.errors import CampaignNotFound, InputError
from dialer.settings import Settings

if TYPE_CHECKING:  # imported where used: redis and the store cost start-up time
    from campaigns.backends import Services
    from dialer.beat.scheduler import Scheduler

EXIT_INTERRUPTED = 130
TICK_S = 15.0  # as dialer.beat.scheduler.TICK_S, which is not imported before it is needed
NEXT_RUNS = 5
DATE = click.DateTime(formats=["%Y-%m-%d"])


def _now(clock: Clock) -> datetime:
    return datetime.fromtimestamp(clock.now(), UTC)


def _verbose(verbose: bool) -> None:
    if verbose:
        logging.basicConfig(level=logging.DEBUG, format="%(asctime)s %(levelname)s %(message)s")


# --- dialer schedule check ------------------------------------------------------------------


@click.group(help="Campaign files: campaigns that run by themselves on a schedule.")
def schedule() -> None:
    pass


@schedule.command(help="Validate a campaign FILE and print each campaign's next runs.")
@click.argument("file", type=click.Path(path_type=Path))
def check(file: Path) -> None:
    schedule_file = load_schedule_file(file)
    console, now = Console(), _now(SystemClock())
    count = len(schedule_file.campaigns)
    say(console, f"{file}: {count} campaign{'' if count == 1 else 's'}, valid.")
    if schedule_file.max_attempts_per_number_per_day is not None:
        cap = schedule_file.max_attempts_per_number_per_day
        say(console, f"At most {cap} calls to a number a day, across the file's campaigns.")
    for campaign in schedule_file.campaigns:
        say(console, "\n".join(_describe(schedule_file, campaign, now)))


def _describe(schedule_file: ScheduleFile, campaign: ScheduledCampaign, now: datetime) -> list[str]:
    from dialer.web.schedule_view import cron_in_words

    policy, zone = campaign.policy, campaign.schedule.zone
    lines = [
        f"\n{campaign.name}: {campaign.schedule.expression!r} in {campaign.zone_name}, "
        f"agent {policy.agent_id}, window {policy.window.text}",
        f"  {cron_in_words(campaign.schedule.expression)}",
    ]
    runs = campaign.schedule.next_runs(now, NEXT_RUNS)
    if not runs:
        return [*lines, "  never runs: the expression matches no date in the next four years"]
    for run in runs:
        local = local_text(run.starts_at, zone, weekday=True)
        lines.append(f"  {local}   ({utc_text(run.starts_at.timestamp())})")
    contacts = campaign.contacts_path(runs[0].local_date)
    there = "there" if contacts.exists() else f'not there yet; missing = "{campaign.missing}"'
    lines.append(f"  next run's list: {contacts} ({there})")
    lines.append(f"  next run's report: {campaign.report_path(runs[0].local_date)}")
    if campaign.skip_reached_within_days:
        days = campaign.skip_reached_within_days
        lines.append(f"  skips numbers reached by the file's campaigns in the last {days} days")
    return lines


# --- dialer run-scheduled ---------------------------------------------------------------------


@click.command(
    "run-scheduled",
    help="Run one day's run of campaign NAME of FILE in the foreground (for cron): its id is "
    "NAME-YYYY-MM-DD, so running it again resumes it and never calls a row twice.",
)
@click.argument("file", type=click.Path(path_type=Path))
@click.argument("name")
@click.option(
    "--date",
    "day",
    type=DATE,
    metavar="YYYY-MM-DD",
    help="The run's local date, YYYY-MM-DD.  [default: today in the campaign's zone]",
)
@click.option("--quiet", is_flag=True, help="Print only errors and the report's path.")
@click.option("--verbose", is_flag=True, help="Log every request and decision.")
def run_scheduled(file: Path, name: str, day: datetime | None, quiet: bool, verbose: bool) -> None:
    from campaigns.backends import open_services

    _verbose(verbose)
    settings = Settings.from_env()
    schedule_file = load_schedule_file(file)
    campaign = schedule_file.campaign(name)
    clock = SystemClock()
    run_day = day.date() if day else campaign.schedule.local_date(_now(clock))
    run = DayRun(schedule_file, campaign, run_day)
    console = Console()
    services = open_services(settings, clock)
    try:
        prepared = prepare(run, settings, services.store, RunOptions(quiet, console=console))
        if isinstance(prepared, Skipped):
            say(console, prepared.reason)
            return
        settings.require_api_key()
        end = launch(prepared)
    finally:
        services.close()
    if end in (Ended.STOPPED, Ended.LEFT):
        sys.exit(EXIT_INTERRUPTED)


# --- dialer beat --------------------------------------------------------------------------------


@click.command(
    help="Run the schedule of a campaign FILE on the cluster (REDIS_URL): each run starts at "
    "its local time, once however many beats run, and its report is written when it ends."
)
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--tick-s",
    type=click.FloatRange(min=0.1),
    default=TICK_S,
    show_default=True,
    help="The longest wait, in seconds, between two looks at the schedule and the runs.",
)
@click.option("--verbose", is_flag=True, help="Log every decision.")
def beat(file: Path, tick_s: float, verbose: bool) -> None:
    from campaigns.backends import open_services
    from dialer.beat.scheduler import run_beat

    _verbose(verbose)
    settings = Settings.from_env()
    schedule_file = load_schedule_file(file)
    if settings.redis_url is None:
        raise InputError(
            "dialer beat starts runs on the cluster: set REDIS_URL (and start `dialer worker`s). "
            "Without a cluster, run each day from cron: dialer run-scheduled FILE NAME."
        )
    settings.require_api_key()
    clock, console = SystemClock(), Console()
    services = open_services(settings, clock)
    try:
        scheduler = _scheduler(schedule_file, settings, services, clock, console)
        scheduler.tick_s = tick_s
        _announce(scheduler)
        with _signals_interrupt():
            run_beat(scheduler)
    except KeyboardInterrupt:
        say(console, "Beat stopped; the runs it started go on on the workers.")
    finally:
        services.close()


def _announce(scheduler: Scheduler) -> None:
    now = _now(scheduler.clock)
    for campaign in scheduler.file.campaigns:
        zone = campaign.schedule.zone
        runs = campaign.schedule.next_runs(now, 1)
        when = [local_text(run.starts_at, zone, weekday=True) for run in runs]
        scheduler.say(f"{campaign.name}: next run {when[0] if when else 'never'}")


def _scheduler(
    schedule_file: ScheduleFile,
    settings: Settings,
    services: Services,
    clock: Clock,
    console: Console,
) -> Scheduler:
    from dialer.beat.scheduler import Scheduler
    from dialer.keys import RedisKeys
    from dialer.run_claims import RedisRunClaims

    assert services.redis is not None
    store = services.store

    def start_run(run: DayRun) -> Skipped | None:
        options = RunOptions(quiet=True, detach=True, console=console)
        prepared = prepare(run, settings, store, options)
        if isinstance(prepared, Skipped):
            return prepared
        launch(prepared)
        return None

    def write_report(run: DayRun) -> None:
        write_campaign_report(store, run.campaign_id, run.campaign.report_path(run.day))

    def say_at(message: str) -> None:
        say(console, f"{iso_utc_text(clock.now())} {message}")

    owner = f"{socket.gethostname()}:{os.getpid()}"
    claims = RedisRunClaims(services.redis, RedisKeys(), owner)
    return Scheduler(schedule_file, claims, store, start_run, write_report, clock, say_at)


@contextmanager
def _signals_interrupt() -> Iterator[None]:
    """`docker stop` sends SIGTERM: stop as Ctrl-C does, between two ticks or starts. SIGINT is
    set too: a process started with SIGINT ignored (a background job of a shell script, or of
    a parent that was running `system()`) would otherwise never stop on Ctrl-C or `kill -INT`."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    with on_stop_signals(handler):
        yield


# --- dialer export --------------------------------------------------------------------------


@click.command(help="Gather the outcomes of scheduled campaign NAME's runs into one report.")
@click.argument("name")
@click.option("--since", type=DATE, metavar="YYYY-MM-DD", required=True, help="The first run date.")
@click.option(
    "--until", type=DATE, metavar="YYYY-MM-DD", help="The last run date.  [default: today]"
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="The report's path, .csv or .xlsx.",
)
@click.option(
    "--file",
    "file",
    type=click.Path(path_type=Path),
    help="The campaign file: checks that NAME is one of its campaigns; today is its zone's.",
)
def export(
    name: str, since: datetime, until: datetime | None, out: Path, file: Path | None
) -> None:
    from campaigns.backends import open_services
    from campaigns.schedule.export import find_runs, write_export
    from dialer.cli.progress import summary_table

    check_report_path(out)
    clock = SystemClock()
    campaign = load_schedule_file(file).campaign(name) if file else None
    last = until.date() if until else _today(campaign, clock)
    if since.date() > last:
        other = f"--until {last}: swap them" if until else f"today ({last}): give an earlier date"
        raise InputError(f"--since {since.date()} is after {other}.")
    services = open_services(Settings.from_env(), clock)
    try:
        runs = find_runs(services.store, name, since.date(), last)
        if not runs:
            raise CampaignNotFound(_no_runs(name, since.date(), last, services))
        counts = write_export(services.store, name, runs, out)
    finally:
        services.close()
    console = Console()
    console.print(summary_table(counts, f"{name}: {len(runs)} runs"))
    say(console, f"Runs {runs[0].day} to {runs[-1].day}. Report: {out}")


def _today(campaign: ScheduledCampaign | None, clock: Clock) -> date:
    """Today in the campaign's zone when its file is given; else the latest date anywhere
    (UTC+14), so that no run of today is left out whatever its zone."""
    if campaign is not None:
        return campaign.schedule.local_date(_now(clock))
    return (_now(clock) + timedelta(hours=14)).date()


def _no_runs(name: str, since: date, until: date, services: Services) -> str:
    where = "REDIS_URL" if services.cluster else f"the state folder {services.settings.home}"
    return (
        f"No run of {name!r} dated {since} to {until} in {where} (their ids are "
        f"{name}-YYYY-MM-DD): check the name, the dates, DIALER_HOME and REDIS_URL."
    )
