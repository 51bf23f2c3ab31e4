"""The beat: starts every scheduled campaign's run of the day at its local time, once, however
many beats run, and writes each run's report when it has finished.

Why not Celery beat itself:
- its crontab mishandles DST edges: a daily 16:04 New York task ran at 17:04 on the day clocks
  sprang forward (celery/celery#9653, django-celery-beat#134), a 12:00 task ran at both 11:00 and
  12:00 on the day they fell back (celery/celery#1604), and a fix is still an open pull request
  (celery/celery#10608);
- it has no "once per local date" key: what ran is kept in one beat's own shelve file, so two
  beats (a failover, a deploy) both send the task, and the Celery docs ask that only one run;
- a beat that was down over a run time sends it when it comes back however late, with no notion
  of the campaign's calling window.
So times come from `CronSchedule` (wall-clock time in the campaign's zone, DST-correct), and
each run is claimed in Redis by its campaign id `{name}-{YYYY-MM-DD}` with SET NX before it is
started: of two beats, the one whose SET succeeds starts it; the other does nothing.

Each tick, for every campaign, yesterday's and today's run (a window may close after midnight):
- due (its start has passed, the day's calling window, in the campaign's zone, has not closed):
  claimed, then started through `start_run` (the workers dial it). A beat down at the run time
  thus starts it when it comes back if the window is still open, and says it missed it if not.
- ended (started by a beat, its campaign now ended in the store): its report written through
  `write_report`, once.

A start that fails on unusable input marks the day failed (dialer/run_claims.py); one that fails
for another reason (the API or Redis unreachable) gives the claim back and is tried again later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from campaigns.schedule.cron import Run
from campaigns.schedule.schedule_file import ScheduleFile
from campaigns.schedule.scheduled_campaign import ScheduledCampaign
from campaigns.store.rows import ENDED_STATES, RowStore
from dialer.beat.scheduled_run import DayRun, Skipped
from dialer.clock import Clock
from dialer.durations import local_text
from dialer.errors import InputError
from dialer.run_claims import Claim, RunClaims

log = logging.getLogger(__name__)

TICK_S = 15.0  # the longest between two ticks; a run's start time wakes the beat sooner
MIN_TICK_S = 1.0
RETRY_AFTER_S = 60.0  # a start that failed (API, Redis) is tried again after this
REPORT_LOOKBACK_DAYS = 7  # a run's report is written if it ends within this many days

StartRun = Callable[[DayRun], "Skipped | None"]  # raises InputError: the day fails for good
WriteReport = Callable[[DayRun], None]


def catch_up_until(campaign: ScheduledCampaign, run: Run) -> datetime:
    """The latest a run may start: when the day's calling window closes in the campaign's
    zone (a window across midnight closes the next day). A run set after its window closed
    (its rows wait for the next window) may start until the day ends."""
    window = campaign.policy.window
    midnight = datetime.combine(run.local_date, time(0), tzinfo=campaign.schedule.zone)
    day_end = midnight + timedelta(days=1)  # aware + timedelta: wall-clock arithmetic
    if window.start_s is None or window.end_s is None:
        return day_end
    close_s = window.end_s if window.start_s < window.end_s else window.end_s + 86_400
    closes = midnight + timedelta(seconds=close_s)
    return closes if closes > run.starts_at else day_end


@dataclass
class Scheduler:
    """One beat's decisions, tick by tick. Everything it touches is passed in."""

    file: ScheduleFile
    claims: RunClaims
    store: RowStore
    start_run: StartRun
    write_report: WriteReport
    clock: Clock
    say: Callable[[str], None]
    tick_s: float = TICK_S
    _settled: set[str] = field(default_factory=set, init=False)  # nothing more to start
    _retry_at: dict[str, float] = field(default_factory=dict, init=False)

    def tick(self) -> None:
        now = datetime.fromtimestamp(self.clock.now(), UTC)
        for campaign in self.file.campaigns:
            today = campaign.schedule.local_date(now)
            for back in range(REPORT_LOOKBACK_DAYS, -1, -1):
                run = DayRun(self.file, campaign, today - timedelta(days=back))
                if back <= 1:
                    self._start_if_due(run, now)
                self._report_if_ended(run)

    def seconds_to_next_tick(self) -> float:
        """Until the next run start or `tick_s`, whichever comes first (at least MIN_TICK_S:
        a run starting this very second was seen by the tick just made)."""
        now = datetime.fromtimestamp(self.clock.now(), UTC)
        wait_s = self.tick_s
        for campaign in self.file.campaigns:
            for run in campaign.schedule.next_runs(now, 1):
                wait_s = min(wait_s, (run.starts_at - now).total_seconds())
        return max(wait_s, MIN_TICK_S)

    def _start_if_due(self, run: DayRun, now: datetime) -> None:
        cid = run.campaign_id
        if cid in self._settled:
            return
        scheduled = run.scheduled
        if scheduled is None or now < scheduled.starts_at:
            return
        if now >= catch_up_until(run.campaign, scheduled):
            self._missed(run, scheduled)
        elif now.timestamp() >= self._retry_at.get(cid, 0.0):
            if self.claims.claim(cid):
                self._start(run, scheduled)
            elif self.claims.state(cid) not in (None, Claim.STARTING):
                self._settled.add(cid)  # another beat started it; one starting may yet fail

    def _start(self, run: DayRun, scheduled: Run) -> None:
        cid = run.campaign_id
        at = _local(run.campaign, scheduled)
        try:
            skipped = self.start_run(run)
        except InputError as exc:  # the list or file must be fixed: trying again cannot help
            self.claims.settle(cid, Claim.STARTING, Claim.FAILED)
            self._settled.add(cid)
            self.say(f"{cid}: not started (scheduled {at}): {exc}")
            return
        except Exception as exc:  # the API or Redis: a beat outlives one run's failure
            log.warning("starting %s failed", cid, exc_info=True)
            self.claims.release(cid)
            self._retry_at[cid] = self.clock.now() + RETRY_AFTER_S
            self.say(f"{cid}: could not start ({exc}); trying again in {RETRY_AFTER_S:g} s.")
            return
        self._settled.add(cid)
        if skipped is not None:
            self.claims.settle(cid, Claim.STARTING, Claim.SKIPPED)
            self.say(skipped.reason)
        else:
            self.claims.settle(cid, Claim.STARTING, Claim.STARTED)
            self.say(f"{cid}: started (scheduled {at}).")

    def _missed(self, run: DayRun, scheduled: Run) -> None:
        cid = run.campaign_id
        self._settled.add(cid)
        if self.claims.state(cid) is None and self.store.get_campaign(cid) is None:
            closes = local_text(catch_up_until(run.campaign, scheduled), run.campaign.schedule.zone)
            self.say(
                f"{cid}: missed: no beat was running at {_local(run.campaign, scheduled)} and "
                f"the day's window closed at {closes}. To run it anyway: "
                f"{run.command}"
            )

    def _report_if_ended(self, run: DayRun) -> None:
        cid = run.campaign_id
        retry_key = f"{cid} report"
        if self.clock.now() < self._retry_at.get(retry_key, 0.0):
            return
        if self.claims.state(cid) is not Claim.STARTED:
            return
        meta = self.store.get_campaign(cid)
        if meta is None or meta.state not in ENDED_STATES:
            return
        if not self.claims.settle(cid, Claim.STARTED, Claim.REPORTING):
            return  # another beat is writing it
        try:
            self.write_report(run)
        except Exception as exc:  # a full disk must not stop the beat: try again later
            self.claims.settle(cid, Claim.REPORTING, Claim.STARTED)
            self._retry_at[retry_key] = self.clock.now() + RETRY_AFTER_S
            self.say(f"{cid}: the report could not be written ({exc}); trying again later.")
            return
        self.claims.settle(cid, Claim.REPORTING, Claim.REPORTED)
        self.say(f"{cid}: {meta.state}; report: {run.campaign.report_path(run.day)}")


def _local(campaign: ScheduledCampaign, run: Run) -> str:
    return local_text(run.starts_at, campaign.schedule.zone)


def run_beat(scheduler: Scheduler, keep_going: Callable[[], bool] = lambda: True) -> None:
    """Tick, and sleep on the scheduler's clock until the next tick, while `keep_going()`;
    the command stops it with an interrupt (Ctrl-C, or SIGTERM made one)."""
    while keep_going():
        scheduler.tick()
        scheduler.clock.sleep(scheduler.seconds_to_next_tick())
