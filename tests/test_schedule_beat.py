"""The beat's decisions over simulated time (an injected clock, never a real wait): which runs it
starts and when, across a week, DST changes, downtime, two beats at once; and the reports it
writes when runs end."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis

from campaigns.schedule.schedule_file import ScheduleFile, load_schedule_file
from campaigns.store.rows import CampaignState
from campaigns.store.sqlite_store import SqliteStore
from dialer.beat.scheduled_run import DayRun, RunOptions, Skipped, prepare
from dialer.beat.scheduler import Scheduler, run_beat
from dialer.clock import FakeClock
from dialer.errors import ApiUnavailable, InputError
from dialer.keys import RedisKeys
from dialer.run_claims import Claim, RedisRunClaims, RunClaims
from dialer.settings import Settings
from tests.cli_support import wait_until
from tests.redis_support import RedisSpace
from tests.test_schedule_support import Outcome, campaign_file, stored_run, us_numbers


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@dataclass
class MemoryClaims:
    """RunClaims in a dict, for long simulated stretches (the Redis ones are tested below)."""

    owner: str = "beat-1"
    values: dict[str, str] = field(default_factory=dict)

    def _mine(self, state: Claim) -> str:
        leased = state in (Claim.STARTING, Claim.REPORTING)
        return f"{state} {self.owner}" if leased else str(state)

    def claim(self, campaign_id: str) -> bool:
        if campaign_id in self.values:
            return False
        self.values[campaign_id] = self._mine(Claim.STARTING)
        return True

    def settle(self, campaign_id: str, from_state: Claim, to_state: Claim) -> bool:
        if self.values.get(campaign_id) != self._mine(from_state):
            return False
        self.values[campaign_id] = self._mine(to_state)
        return True

    def release(self, campaign_id: str) -> None:
        if self.values.get(campaign_id) == self._mine(Claim.STARTING):
            del self.values[campaign_id]

    def state(self, campaign_id: str) -> Claim | None:
        value = self.values.get(campaign_id)
        return None if value is None else Claim(value.split(" ", 1)[0])


@dataclass
class Beat:
    """A scheduler with a fake clock, recording what it started, reported and said."""

    scheduler: Scheduler
    clock: FakeClock
    started: list[tuple[str, datetime]] = field(default_factory=list)
    reported: list[str] = field(default_factory=list)
    said: list[str] = field(default_factory=list)

    def run_until(self, end: datetime) -> None:
        run_beat(self.scheduler, keep_going=lambda: self.clock.now() < end.timestamp())

    def tick_at(self, at: datetime) -> None:
        self.clock.t = at.timestamp()
        self.scheduler.tick()

    def starts(self) -> list[tuple[str, datetime]]:
        return sorted(self.started, key=lambda s: s[1])


def make_beat(
    file: ScheduleFile,
    store: SqliteStore,
    start: datetime,
    claims: RunClaims | None = None,
    tick_s: float = 3600.0,
) -> Beat:
    """A beat whose runs only record when they started; `tick_s` as long as a test can
    afford (a run's start time wakes it anyway)."""
    clock = FakeClock(start.timestamp())
    started: list[tuple[str, datetime]] = []
    reported: list[str] = []
    said: list[str] = []

    def start_run(run: DayRun) -> None:
        started.append((run.campaign_id, datetime.fromtimestamp(clock.now(), UTC)))

    def write_report(run: DayRun) -> None:
        reported.append(run.campaign_id)

    claims = claims or MemoryClaims()
    scheduler = Scheduler(
        file, claims, store, start_run, write_report, clock, said.append, tick_s=tick_s
    )
    return Beat(scheduler, clock, started, reported, said)


@pytest.fixture
def store(make_store: Callable[[str], SqliteStore]) -> SqliteStore:
    return make_store("sqlite")


def load(tmp_path: Path, text: str) -> ScheduleFile:
    return load_schedule_file(campaign_file(tmp_path, text))


WEEK = """
[defaults]
agent = "agent_demo"
contacts = "{name}-{date}.csv"

[campaigns.reminders]
schedule = "0 9 * * MON-FRI"
timezone = "America/New_York"

[campaigns.london]
schedule = "0 8 * * *"
timezone = "Europe/London"
"""


def test_a_week_starts_every_weekday_run_once_at_its_time(
    tmp_path: Path, store: SqliteStore
) -> None:
    beat = make_beat(load(tmp_path, WEEK), store, utc(2026, 11, 22, 0, 0))  # a Sunday
    beat.run_until(utc(2026, 11, 29, 0, 0))
    weekdays = [utc(2026, 11, d, 14, 0) for d in range(23, 28)]  # 09:00 EST
    london = [utc(2026, 11, d, 8, 0) for d in range(22, 29)]  # 08:00 GMT
    expected = [(f"reminders-{t.date()}", t) for t in weekdays]
    expected += [(f"london-{t.date()}", t) for t in london]
    assert beat.starts() == sorted(expected, key=lambda s: s[1])


DST = """
[defaults]
agent = "agent_demo"
contacts = "{name}-{date}.csv"
timezone = "%s"

[campaigns.night]
schedule = "30 %d * * *"

[campaigns.morning]
schedule = "0 9 * * *"
"""


@pytest.mark.parametrize(
    ("zone", "hour", "first_day", "night_utc", "morning_utc"),
    [
        # spring forward, 2026-03-08: 02:30 does not exist, so it runs at 03:00 EDT
        ("America/New_York", 2, date(2026, 3, 7), ["07:30", "07:00", "06:30"], [14, 13, 13]),
        # fall back, 2026-11-01: 01:30 happens twice and runs at the first (EDT)
        ("America/New_York", 1, date(2026, 10, 31), ["05:30", "05:30", "06:30"], [13, 14, 14]),
        # spring forward, 2026-03-29: 01:30 does not exist, so it runs at 02:00 BST
        ("Europe/London", 1, date(2026, 3, 28), ["01:30", "01:00", "00:30"], [9, 8, 8]),
        # fall back, 2026-10-25: 01:30 happens twice and runs at the first (BST)
        ("Europe/London", 1, date(2026, 10, 24), ["00:30", "00:30", "01:30"], [8, 9, 9]),
    ],
)
def test_both_dst_changes_start_each_day_once_at_local_time(
    tmp_path: Path,
    store: SqliteStore,
    zone: str,
    hour: int,
    first_day: date,
    night_utc: list[str],
    morning_utc: list[int],
) -> None:
    local = ZoneInfo(zone)
    start = datetime.combine(first_day, time(0), tzinfo=local)  # local midnight
    # ticks every 10 minutes, through the repeated hour too, and at each run's start
    beat = make_beat(load(tmp_path, DST % (zone, hour)), store, start, tick_s=600.0)
    beat.run_until(start + timedelta(days=3))
    days = [first_day + timedelta(days=n) for n in range(3)]
    got = Counter(cid for cid, _ in beat.started)
    assert got == Counter([f"night-{d}" for d in days] + [f"morning-{d}" for d in days])
    starts = dict(beat.started)
    assert [f"{starts[f'night-{d}']:%H:%M}" for d in days] == night_utc
    assert [starts[f"morning-{d}"].hour for d in days] == morning_utc
    assert [f"{starts[f'morning-{d}'].astimezone(local):%Y-%m-%d %H:%M}" for d in days] == [
        f"{d} 09:00" for d in days
    ]


DOWN = """
[campaigns.reminders]
agent = "agent_demo"
contacts = "{name}-{date}.csv"
schedule = "0 9 * * *"
timezone = "America/New_York"
window = "09:00-20:00"
"""


def test_a_beat_down_at_the_run_time_catches_up_while_the_window_is_open(
    tmp_path: Path, store: SqliteStore
) -> None:
    beat = make_beat(load(tmp_path, DOWN), store, utc(2026, 11, 23, 18, 0))  # 13:00 EST
    beat.tick_at(utc(2026, 11, 23, 18, 0))
    beat.tick_at(utc(2026, 11, 23, 19, 0))
    assert beat.started == [("reminders-2026-11-23", utc(2026, 11, 23, 18, 0))]
    assert "reminders-2026-11-23: started (scheduled 2026-11-23 09:00 EST)." in beat.said


def test_a_beat_back_after_the_window_closed_does_not_start_it_and_says_so(
    tmp_path: Path, store: SqliteStore
) -> None:
    beat = make_beat(load(tmp_path, DOWN), store, utc(2026, 11, 24, 1, 30))  # 20:30 EST
    beat.tick_at(utc(2026, 11, 24, 1, 30))
    beat.tick_at(utc(2026, 11, 24, 4, 0))  # 23:00: still the same day, still not started
    assert beat.started == []
    (missed,) = [s for s in beat.said if s.startswith("reminders-2026-11-23: missed")]
    assert "reminders-2026-11-23" in missed and "20:00 EST" in missed
    assert "dialer run-scheduled" in missed and "--date 2026-11-23" in missed
    beat.run_until(utc(2026, 11, 24, 15, 0))  # the next day's run starts as usual
    assert beat.started == [("reminders-2026-11-24", utc(2026, 11, 24, 14, 0))]


def test_a_run_done_from_cron_is_not_called_missed(tmp_path: Path, store: SqliteStore) -> None:
    stored_run(store, "reminders", date(2026, 11, 23), [Outcome(us_numbers(1)[0])])
    beat = make_beat(load(tmp_path, DOWN), store, utc(2026, 11, 24, 1, 30))
    beat.tick_at(utc(2026, 11, 24, 1, 30))
    assert not [s for s in beat.said if s.startswith("reminders-2026-11-23: missed")]


def test_a_failed_start_is_tried_again_and_unusable_input_is_not(
    tmp_path: Path, store: SqliteStore
) -> None:
    file = load(tmp_path, DOWN)
    beat = make_beat(file, store, utc(2026, 11, 23, 14, 0))
    failures: list[Exception] = [ApiUnavailable("the API cannot be reached")]

    def flaky(run: DayRun) -> None:
        if failures:
            raise failures.pop()
        beat.started.append((run.campaign_id, datetime.fromtimestamp(beat.clock.now(), UTC)))

    beat.scheduler.start_run = flaky
    beat.tick_at(utc(2026, 11, 23, 14, 0))
    beat.tick_at(utc(2026, 11, 23, 14, 0, 30))  # too soon to try again
    assert beat.started == [] and "trying again in 60 s" in beat.said[-1]
    beat.tick_at(utc(2026, 11, 23, 14, 1, 0))
    assert beat.started == [("reminders-2026-11-23", utc(2026, 11, 23, 14, 1))]

    failures.append(InputError("contact list x.csv has no phone column"))
    beat.tick_at(utc(2026, 11, 24, 14, 0))
    beat.tick_at(utc(2026, 11, 24, 16, 0))
    assert [cid for cid, _ in beat.started] == ["reminders-2026-11-23"]
    assert "reminders-2026-11-24: not started" in beat.said[-1] and "phone column" in beat.said[-1]
    assert beat.scheduler.claims.state("reminders-2026-11-24") is Claim.FAILED


MISSING = """
[defaults]
agent = "agent_demo"
timezone = "America/New_York"
schedule = "0 9 * * *"

[campaigns.reminders]
contacts = "data/reminders-{date}.csv"

[campaigns.strict]
contacts = "data/strict-{date}.csv"
missing = "fail"
"""


def test_a_missing_days_list_is_skipped_and_said_or_fails(
    tmp_path: Path, store: SqliteStore
) -> None:
    file = load(tmp_path, MISSING)
    beat = make_beat(file, store, utc(2026, 11, 23, 14, 0))

    def start_without_calling(run: DayRun) -> Skipped | None:
        prepared = prepare(run, Settings(), store, RunOptions())
        assert isinstance(prepared, Skipped), "this test calls nobody"
        return prepared

    beat.scheduler.start_run = start_without_calling
    beat.tick_at(utc(2026, 11, 23, 14, 0))
    skipped = next(s for s in beat.said if s.startswith("reminders-2026-11-23"))
    assert "data/reminders-2026-11-23.csv does not exist" in skipped and "skipped" in skipped
    failed = next(s for s in beat.said if s.startswith("strict-2026-11-23"))
    assert "not started" in failed and 'missing = "fail"' in failed
    claims = beat.scheduler.claims
    assert claims.state("reminders-2026-11-23") is Claim.SKIPPED
    assert claims.state("strict-2026-11-23") is Claim.FAILED
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "reminders-2026-11-23.csv").write_text("Name,Phone\nA,+12125550000\n")
    beat.tick_at(utc(2026, 11, 23, 15, 0))  # the day was skipped: it stays skipped
    assert claims.state("reminders-2026-11-23") is Claim.SKIPPED


def test_prepare_skips_a_missing_list_and_fails_when_told_to(
    tmp_path: Path, store: SqliteStore
) -> None:
    file = load(tmp_path, MISSING)
    day = date(2026, 11, 23)
    skipped = prepare(
        DayRun(file, file.campaign("reminders"), day), Settings(), store, RunOptions()
    )
    assert isinstance(skipped, Skipped) and "nobody was called" in skipped.reason
    with pytest.raises(InputError) as caught:
        prepare(DayRun(file, file.campaign("strict"), day), Settings(), store, RunOptions())
    message = str(caught.value)
    assert str(file.path) in message and "'strict'" in message
    assert "dialer run-scheduled" in message and "--date 2026-11-23" in message


def test_reports_are_written_once_when_a_started_run_ends(
    tmp_path: Path, store: SqliteStore
) -> None:
    beat = make_beat(load(tmp_path, DOWN), store, utc(2026, 11, 23, 14, 0))
    beat.tick_at(utc(2026, 11, 23, 14, 0))
    cid = "reminders-2026-11-23"
    stored_run(
        store,
        "reminders",
        date(2026, 11, 23),
        [Outcome("+12125550000", calls=0)],
        state=CampaignState.RUNNING,
    )
    beat.tick_at(utc(2026, 11, 23, 15, 0))
    assert beat.reported == []  # still running
    store.update_campaign(cid, state=CampaignState.FINISHED)
    beat.tick_at(utc(2026, 11, 23, 16, 0))
    beat.tick_at(utc(2026, 11, 25, 16, 0))
    assert beat.reported == [cid]
    assert beat.scheduler.claims.state(cid) is Claim.REPORTED


# --- two beats at once, on fakeredis and on real Redis ---------------------------------------


@pytest.fixture
def redis_prefix(redis_space: RedisSpace) -> tuple[redis.Redis[str], RedisKeys]:
    return redis_space.client, redis_space.keys


def test_two_beats_at_once_start_each_run_once(
    tmp_path: Path, store: SqliteStore, redis_prefix: tuple[redis.Redis[str], RedisKeys]
) -> None:
    client, keys = redis_prefix
    file = load(tmp_path, WEEK)
    start = utc(2026, 11, 23, 8, 0)
    beats = [
        make_beat(file, store, start, claims=RedisRunClaims(client, keys, f"beat-{n}"))
        for n in range(2)
    ]
    for day in range(23, 28):  # each weekday, both beats tick at the same instant
        for at in (utc(2026, 11, day, 8, 0), utc(2026, 11, day, 14, 0), utc(2026, 11, day, 15, 0)):
            barrier = threading.Barrier(2)

            def tick(beat: Beat, at: datetime = at, barrier: threading.Barrier = barrier) -> None:
                beat.clock.t = at.timestamp()
                barrier.wait()
                beat.scheduler.tick()

            threads = [threading.Thread(target=tick, args=(b,)) for b in beats]
            for t in threads:
                t.start()
            for t in threads:
                t.join(10)
    started = Counter(cid for beat in beats for cid, _ in beat.started)
    expected = [f"reminders-2026-11-{d}" for d in range(23, 28)]
    expected += [f"london-2026-11-{d}" for d in range(23, 28)]
    assert started == Counter(expected)


def test_a_beat_that_died_while_starting_frees_the_run(
    tmp_path: Path, store: SqliteStore, redis_prefix: tuple[redis.Redis[str], RedisKeys]
) -> None:
    client, keys = redis_prefix
    file = load(tmp_path, DOWN)
    dead = RedisRunClaims(client, keys, "beat-dead")
    assert dead.claim("reminders-2026-11-23")  # and then it died
    beat = make_beat(
        file, store, utc(2026, 11, 23, 14, 0), claims=RedisRunClaims(client, keys, "b")
    )
    beat.tick_at(utc(2026, 11, 23, 14, 0))
    assert beat.started == []  # the dead beat's lease still holds it
    key = keys.scheduled_run("reminders-2026-11-23")
    client.pexpire(key, 1)  # its lease runs out (on the Redis server's clock)
    wait_until(lambda: not client.exists(key), timeout_s=5, what="the lease to expire")
    beat.tick_at(utc(2026, 11, 23, 14, 1))
    assert [cid for cid, _ in beat.started] == ["reminders-2026-11-23"]
    assert RedisRunClaims(client, keys, "x").state("reminders-2026-11-23") is Claim.STARTED
