"""Scheduled run times: wall-clock time in the campaign's zone, across DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from croniter import croniter

from campaigns.schedule.cron import CronSchedule, Run
from dialer.errors import InputError


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(schedule: CronSchedule, at: datetime) -> str:
    return at.astimezone(schedule.zone).strftime("%Y-%m-%d %a %H:%M")


def test_a_week_of_weekday_runs() -> None:
    s = CronSchedule.parse("0 9 * * MON-FRI", "America/New_York")
    runs = s.next_runs(utc(2026, 11, 27, 0, 0), 5)  # a Friday
    assert [local(s, r.starts_at) for r in runs] == [
        "2026-11-27 Fri 09:00",
        "2026-11-30 Mon 09:00",
        "2026-12-01 Tue 09:00",
        "2026-12-02 Wed 09:00",
        "2026-12-03 Thu 09:00",
    ]
    assert runs[0].starts_at == utc(2026, 11, 27, 14, 0)
    assert runs[1].local_date == date(2026, 11, 30)


@pytest.mark.parametrize(
    ("zone", "before", "after", "utc_before", "utc_after"),
    [
        # spring forward: 9:00 stays 9:00 local, one hour earlier in UTC
        ("America/New_York", date(2026, 3, 6), date(2026, 3, 9), 14, 13),
        ("Europe/London", date(2026, 3, 27), date(2026, 3, 30), 9, 8),
        # fall back
        ("America/New_York", date(2026, 10, 30), date(2026, 11, 2), 13, 14),
        ("Europe/London", date(2026, 10, 23), date(2026, 10, 26), 8, 9),
    ],
)
def test_nine_oclock_on_both_sides_of_a_change(
    zone: str, before: date, after: date, utc_before: int, utc_after: int
) -> None:
    s = CronSchedule.parse("0 9 * * MON-FRI", zone)
    a, b = s.run_on(before), s.run_on(after)
    assert a is not None and b is not None
    assert a.starts_at.hour == utc_before and b.starts_at.hour == utc_after
    assert local(s, a.starts_at).endswith("09:00") and local(s, b.starts_at).endswith("09:00")


def test_a_time_that_does_not_exist_runs_once_at_the_next_valid_minute() -> None:
    s = CronSchedule.parse("30 2 * * *", "America/New_York")
    run = s.run_on(date(2026, 3, 8))  # clocks jump from 02:00 to 03:00
    assert run is not None and local(s, run.starts_at) == "2026-03-08 Sun 03:00"
    runs = s.next_runs(utc(2026, 3, 7, 12), 3)
    assert [r.local_date for r in runs] == [date(2026, 3, 8), date(2026, 3, 9), date(2026, 3, 10)]


def test_a_repeated_hour_runs_once_at_its_first_occurrence() -> None:
    s = CronSchedule.parse("30 1 * * *", "Europe/London")
    run = s.run_on(date(2026, 10, 25))  # 01:00-02:00 happens twice
    assert run is not None and run.starts_at == utc(2026, 10, 25, 0, 30)  # BST, the first
    days = [r.local_date for r in s.next_runs(utc(2026, 10, 24, 12), 3)]
    assert days == [date(2026, 10, 25), date(2026, 10, 26), date(2026, 10, 27)]


def test_day_of_month_or_weekday_as_cron_does() -> None:
    s = CronSchedule.parse("0 9 1 * MON", "UTC")
    assert s.matches(date(2026, 12, 1)) and s.matches(date(2026, 12, 7))
    assert not s.matches(date(2026, 12, 2))


@pytest.mark.parametrize(
    ("expression", "zone", "fragment"),
    [
        ("0 9 * *", "UTC", "five fields"),
        ("nine", "UTC", "cron"),
        ("0 9 * * *", "Mars/Base", "zone"),
    ],
)
def test_mistakes_are_named(expression: str, zone: str, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment):
        CronSchedule.parse(expression, zone, where="campaign reminders, key schedule")


def test_stars_in_minute_and_hour_mean_the_first_of_the_day() -> None:
    s = CronSchedule.parse("* * * * *", "UTC")
    run = s.run_on(date(2026, 12, 1))
    assert run is not None and run.starts_at == utc(2026, 12, 1, 0, 0)
    hourly = CronSchedule.parse("15 * * * *", "UTC").run_on(date(2026, 12, 1))
    assert hourly is not None and hourly.starts_at == utc(2026, 12, 1, 0, 15)


# --- every form croniter accepts gives croniter's runs, one per local date ---


def croniter_first_per_date(expression: str, start: datetime, days: int) -> list[datetime]:
    """croniter's own iteration over naive wall-clock times, the first match of each date."""
    it = croniter(expression, start)
    firsts: dict[date, datetime] = {}
    while True:
        wall: datetime = it.get_next(datetime)
        if (wall - start).days >= days:
            return list(firsts.values())
        firsts.setdefault(wall.date(), wall)


def walls(schedule: CronSchedule, runs: list[Run]) -> list[datetime]:
    return [r.starts_at.astimezone(schedule.zone).replace(tzinfo=None) for r in runs]


FORMS = [
    "0 9 * * MON#1",  # the first Monday of the month
    "0 9 L * *",  # the last day of the month
    "0 9 15W * *",  # the weekday nearest the 15th
    "*/15 9-17 * * 1-5",  # every quarter hour on weekdays: the day's run is the first
    "@daily",
    "30 8 1-7 JAN-MAR,OCT-DEC *",  # names and ranges in months
    "45 10 */10 * SUN",  # a step in days, or Sundays (cron's either-or)
]


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/London", "Australia/Sydney"])
@pytest.mark.parametrize("expression", FORMS)
def test_every_form_runs_when_croniter_says_across_a_year_of_dst(
    expression: str, zone: str
) -> None:
    schedule = CronSchedule.parse(expression, zone)
    # A year holds both changes in every zone; croniter's reference walk over every quarter
    # hour is slow, so that form is compared over the spring changes (New York, London, Sydney).
    start, days = (
        (datetime(2026, 3, 1), 45) if "*/15" in expression else (datetime(2026, 1, 1), 366)
    )
    expected = croniter_first_per_date(expression, start - timedelta(minutes=1), days)
    runs = schedule.next_runs(start.replace(tzinfo=schedule.zone), len(expected))
    assert walls(schedule, runs) == expected  # none of these times falls in a DST gap
    assert [r.local_date for r in runs] == [w.date() for w in expected]
    assert len({r.local_date for r in runs}) == len(runs)  # one run per local date


def test_first_monday_last_day_and_nearest_weekday_are_kept() -> None:
    first_monday = CronSchedule.parse("0 9 * * MON#1", "Europe/London")
    runs = first_monday.next_runs(utc(2026, 3, 1), 3)
    assert [r.local_date for r in runs] == [date(2026, 3, 2), date(2026, 4, 6), date(2026, 5, 4)]
    assert runs[0].starts_at == utc(2026, 3, 2, 9) and runs[1].starts_at == utc(2026, 4, 6, 8)
    last = CronSchedule.parse("0 9 L * *", "America/New_York")
    assert [r.local_date for r in last.next_runs(utc(2026, 2, 1), 3)] == [
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
    ]
    nearest = CronSchedule.parse("0 9 15W * *", "UTC")  # 2026-08-15 is a Saturday
    assert nearest.run_on(date(2026, 8, 14)) is not None
    assert nearest.run_on(date(2026, 8, 15)) is None


@pytest.mark.parametrize(
    ("zone", "day", "utc_hour"),
    [
        ("America/New_York", date(2026, 3, 9), 13),  # Monday after spring forward: EDT
        ("America/New_York", date(2026, 11, 2), 14),  # Monday after fall back: EST
        ("Europe/London", date(2026, 3, 30), 8),
        ("Europe/London", date(2026, 10, 26), 9),
    ],
)
def test_quarter_hours_on_weekdays_run_once_at_nine_local(
    zone: str, day: date, utc_hour: int
) -> None:
    schedule = CronSchedule.parse("*/15 9-17 * * 1-5", zone)
    runs = schedule.next_runs(datetime.combine(day, datetime.min.time(), tzinfo=UTC), 2)
    assert runs[0].local_date == day and runs[0].starts_at.hour == utc_hour
    assert runs[1].local_date == day + timedelta(days=1)


@pytest.mark.parametrize(
    ("zone", "night", "expected"),
    [
        ("America/New_York", date(2026, 3, 8), utc(2026, 3, 8, 7, 0)),  # 02:30 skipped: 03:00
        ("Europe/London", date(2026, 3, 29), utc(2026, 3, 29, 1, 0)),  # 01:30 skipped: 02:00
        ("America/New_York", date(2026, 11, 1), utc(2026, 11, 1, 5, 30)),  # 01:30 EDT, first
        ("Europe/London", date(2026, 10, 25), utc(2026, 10, 25, 0, 30)),  # 01:30 BST, first
    ],
)
def test_daily_runs_through_both_dst_nights_once(
    zone: str, night: date, expected: datetime
) -> None:
    minute = "30 2" if zone.startswith("America") and night.month == 3 else "30 1"
    schedule = CronSchedule.parse(f"{minute} * * *", zone)
    eve = datetime.combine(night - timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    runs = schedule.next_runs(eve + timedelta(hours=12), 3)
    assert [r.local_date for r in runs] == [night + timedelta(days=i) for i in range(3)]
    assert runs[0].starts_at == expected
    midnight = CronSchedule.parse("@daily", zone)
    daily = midnight.next_runs(utc(2026, 1, 1), 400)
    assert {f"{w:%H:%M}" for w in walls(midnight, daily)} == {"00:00"}
    assert len({r.local_date for r in daily}) == 400


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("0 9 * * 5L", "croniter accepts"),
        ("0 0 9 * * *", "6 fields"),
        ("0 9 * * * 2026", "croniter accepts"),
        ("H 9 * * *", "croniter accepts"),
        ("0 9 30 2 *", "matches no date"),
    ],
)
def test_forms_not_supported_are_refused_by_name(expression: str, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment) as caught:
        CronSchedule.parse(expression, "UTC", where="f.toml: campaign 'a', key 'schedule'")
    assert "f.toml: campaign 'a', key 'schedule'" in str(caught.value)
