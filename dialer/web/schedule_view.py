"""What the Schedules page shows of a campaign file: each campaign's settings and cron in words,
its next runs (local time and UTC), its past runs with their counts, and whether the beat
claimed each; and starting today's run by hand, as a beat would (claim first on the cluster).

Kept apart from the web layer so that it reads like the scheduler it mirrors and is tested
without a browser.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from cron_descriptor import get_description

from campaigns.schedule.export import find_runs
from campaigns.schedule.schedule_file import ScheduleFile
from campaigns.schedule.scheduled_campaign import ScheduledCampaign
from campaigns.service import open_request
from campaigns.store.rows import CampaignState, RowStore
from dialer.beat.scheduled_run import DayRun, RunOptions, Skipped, prepare
from dialer.durations import local_text, utc_text
from dialer.errors import InputError
from dialer.run_claims import Claim, RunClaims
from dialer.settings import Settings

NEXT_RUNS = 5
PAST_DAYS = 14  # past runs shown: this many local dates back, today included
NO_BEAT = "no beat: embedded mode (a beat needs REDIS_URL)"


@dataclass(frozen=True)
class NextRun:
    local: str  # "Mon 2026-11-30 09:00 EST"
    utc: str  # "2026-11-30 14:00 UTC"


@dataclass(frozen=True)
class PastRun:
    day: date
    campaign_id: str
    state: str
    counts: dict[str, int]  # by status, the empty ones left out
    beat: str  # whether the beat claimed it, in words


@dataclass(frozen=True)
class CampaignView:
    name: str
    agent: str
    zone: str
    window: str
    cron: str
    cron_words: str
    next_runs: list[NextRun]
    past_runs: list[PastRun]
    today: date
    today_scheduled: str  # today's start in local time, "" when the schedule skips today
    today_started: bool  # today's run is in the store


# croniter's named schedules, which cron-descriptor does not read
_NAMED = {
    "@midnight": "0 0 * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@hourly": "0 * * * *",
}


def cron_in_words(expression: str) -> str:
    """The expression in words: "0 9 * * MON#1" -> "At 09:00 AM, on the first Monday of the
    month"; the expression itself where cron-descriptor cannot read it."""
    try:
        return str(get_description(_NAMED.get(expression.strip().lower(), expression)))
    except Exception:  # cron-descriptor knows fewer forms than croniter: show the expression
        return expression


def campaign_views(
    file: ScheduleFile,
    store: RowStore,
    claims: RunClaims | None,
    now: datetime,
    counts_of: Callable[[str], dict[str, int]],
) -> list[CampaignView]:
    return [_view(file, c, store, claims, now, counts_of) for c in file.campaigns]


def _view(
    file: ScheduleFile,
    campaign: ScheduledCampaign,
    store: RowStore,
    claims: RunClaims | None,
    now: datetime,
    counts_of: Callable[[str], dict[str, int]],
) -> CampaignView:
    schedule, zone = campaign.schedule, campaign.schedule.zone
    today = schedule.local_date(now)
    runs = find_runs(store, campaign.name, today - timedelta(days=PAST_DAYS - 1), today)
    past = [
        PastRun(
            run.day,
            run.meta.campaign_id,
            str(run.meta.state),
            counts_of(run.meta.campaign_id),
            _beat(claims, run.meta.campaign_id),
        )
        for run in reversed(runs)
    ]
    scheduled = schedule.run_on(today)
    return CampaignView(
        name=campaign.name,
        agent=campaign.policy.agent_id,
        zone=campaign.zone_name,
        window=campaign.policy.window.text,
        cron=schedule.expression,
        cron_words=cron_in_words(schedule.expression),
        next_runs=[
            NextRun(
                local_text(r.starts_at, zone, weekday=True),
                utc_text(r.starts_at.timestamp()),
            )
            for r in schedule.next_runs(now, NEXT_RUNS)
        ],
        past_runs=past,
        today=today,
        today_scheduled=""
        if scheduled is None
        else f"{scheduled.starts_at.astimezone(zone):%H:%M %Z}",
        today_started=store.get_campaign(campaign.run_id(today)) is not None,
    )


def _beat(claims: RunClaims | None, campaign_id: str) -> str:
    if claims is None:
        return NO_BEAT
    state = claims.state(campaign_id)
    return "not claimed: started by hand" if state is None else f"claimed: {state}"


@dataclass(frozen=True)
class TodayStarter:
    """Starts a campaign's run of today now, as the beat would: the day's list and memory
    (`prepare`), a claim on the cluster so no beat starts it too, the campaign opened by the
    campaign service, then `resume` runs it."""

    file: ScheduleFile
    store: RowStore
    settings: Settings
    claims: RunClaims | None
    resume: Callable[[str], object]  # CampaignRuns.resume: runs the stored campaign

    def start(self, name: str, now: datetime) -> str:
        """Start it; returns its campaign id. InputError says why not, in words."""
        campaign = self.file.campaign(name)
        run = DayRun(self.file, campaign, campaign.schedule.local_date(now))
        cid = run.campaign_id
        meta = self.store.get_campaign(cid)
        if meta is not None and meta.state is not CampaignState.STOPPED:
            raise InputError(f"{cid} has started already ({meta.state}): see its page.")
        launch = prepare(run, self.settings, self.store, RunOptions(quiet=True))
        if isinstance(launch, Skipped):
            raise InputError(launch.reason)
        if self.claims is not None and not self.claims.claim(cid):
            raise InputError(f"{cid}: a beat has claimed today's run ({self.claims.state(cid)}).")
        try:
            open_request(self.store, launch.request, now.timestamp())
            self.resume(cid)
        except BaseException:
            if self.claims is not None:
                self.claims.release(cid)
            raise
        if self.claims is not None:
            self.claims.settle(cid, Claim.STARTING, Claim.STARTED)  # the beat writes its report
        return cid
