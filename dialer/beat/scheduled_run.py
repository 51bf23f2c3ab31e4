"""One local date's run of a scheduled campaign, made ready for `launch` (and so for the campaign
service): its list found (or the day skipped, as `missing` says), the memory of the file's
earlier runs applied to its rows, and the report's path for the day. `dialer run-scheduled`
(cron), `dialer beat` and the Schedules page share it.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field, replace
from datetime import date

from rich.console import Console

from campaigns.dial_options import run_flags
from campaigns.dialing.policy import PollPolicy
from campaigns.lists.contacts import open_contact_list
from campaigns.report.output import check_report_path
from campaigns.schedule.cron import Run
from campaigns.schedule.memory import Recall, apply_memory, remember
from campaigns.schedule.schedule_file import ScheduleFile
from campaigns.schedule.scheduled_campaign import Missing, ScheduledCampaign
from campaigns.store.rows import RowStore
from dialer.cli.run import Launch
from dialer.errors import InputError
from dialer.settings import Settings


@dataclass(frozen=True)
class DayRun:
    """A campaign of a file on one local date: the run keyed `{name}-{YYYY-MM-DD}`."""

    file: ScheduleFile
    campaign: ScheduledCampaign
    day: date

    @property
    def campaign_id(self) -> str:
        return self.campaign.run_id(self.day)

    @property
    def scheduled(self) -> Run | None:
        """When the schedule starts this date's run; None when it skips the date."""
        return self.campaign.schedule.run_on(self.day)

    @property
    def command(self) -> str:
        """The command that runs (or resumes) this day's run by hand."""
        return shlex.join(
            [
                "dialer",
                "run-scheduled",
                str(self.file.path),
                self.campaign.name,
                "--date",
                self.day.isoformat(),
            ]
        )


@dataclass(frozen=True)
class Skipped:
    """A day with nothing to run, and why, in words."""

    reason: str


@dataclass(frozen=True)
class RunOptions:
    """How the run is shown and followed: the caller's business, not the file's."""

    quiet: bool = False
    detach: bool = False
    console: Console = field(default_factory=Console)


def prepare(run: DayRun, settings: Settings, store: RowStore, opts: RunOptions) -> Launch | Skipped:
    """The day's `Launch`, or why there is none. `store` is where the memory is read from."""
    campaign, day = run.campaign, run.day
    if run.scheduled is None:
        return Skipped(
            f"{run.campaign_id}: the schedule {campaign.schedule.expression!r} has no run on "
            f"{day:%a %Y-%m-%d}: nothing to do."
        )
    contacts_path = campaign.contacts_path(day)
    if not contacts_path.exists():
        return _missing_list(run)
    report = campaign.report_path(day)
    check_report_path(report)
    contacts = open_contact_list(contacts_path, campaign.list_options_on(day))
    recall = _recall(run)
    return Launch(
        settings,
        contacts,
        replace(
            campaign.policy,
            poll=_poll(campaign, settings),
            # the file's runs never block each other in the contact history (its keys rule them)
            recall_group=f"file:{run.file.path.resolve()}",
            verify_after_s=settings.verify_after_s,
        ),
        run.campaign_id,
        report,
        resume_command=lambda cid: run.command if cid == run.campaign_id else _adhoc(run, cid),
        quiet=opts.quiet,
        detach=opts.detach,
        # read when the run is stored, not before: the memory is as fresh as it can be
        rows=lambda: apply_memory(contacts.rows(), remember(store, recall)),
        console=opts.console,
    )


def _recall(run: DayRun) -> Recall:
    return Recall(
        names=run.file.names,
        day=run.day,
        own_id=run.campaign_id,
        reached_within_days=run.campaign.skip_reached_within_days,
        max_calls_per_day=run.file.max_attempts_per_number_per_day,
        calls_per_run=run.campaign.max_attempts_per_run,
    )


def _poll(campaign: ScheduledCampaign, settings: Settings) -> PollPolicy:
    poll = PollPolicy(settings.poll_min_s, settings.poll_max_s)
    if campaign.webhooks:  # as `dialer run --webhooks`
        poll = replace(poll, webhook_overdue_s=settings.webhook_overdue_s)
    return poll


def _missing_list(run: DayRun) -> Skipped:
    path = run.campaign.contacts_path(run.day)
    if run.campaign.missing is Missing.FAIL:
        raise InputError(
            f"{run.file.path}: campaign {run.campaign.name!r}: the contact list of "
            f'{run.day.isoformat()}, {path}, does not exist (missing = "fail"). Put it there '
            f'and run `{run.command}`, or set missing = "skip".'
        )
    return Skipped(
        f"{run.campaign_id}: no contact list for {run.day.isoformat()} ({path} does not exist): "
        'the day is skipped (missing = "skip"); nobody was called.'
    )


def _adhoc(run: DayRun, campaign_id: str) -> str:
    """A `dialer run` that calls the day's list again under another id (the day's own run has
    finished, and a date has one run). The file's memory does not apply to it."""
    campaign = run.campaign
    flags = run_flags(
        campaign.policy, campaign.list_options_on(run.day), webhooks=campaign.webhooks
    )
    words = ["dialer", "run", str(campaign.contacts_path(run.day)), *flags]
    return shlex.join([*words, "--campaign", campaign_id])
