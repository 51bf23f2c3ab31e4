"""Scheduled run times: wall-clock time in the campaign's zone, across DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from campaigns.cron import CronSchedule
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
