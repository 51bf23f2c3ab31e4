"""Durations, rates and times as a person reads and writes them, the same on every door."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from dialer.durations import (
    age_text,
    duration_text,
    eta_text,
    hours_text,
    iso_utc_text,
    local_text,
    parse_duration_s,
    rate_text,
    utc_text,
)
from dialer.errors import InputError
from dialer.web import formatting

MOMENT_S = 1_796_138_407.0  # 2026-12-01 15:20:07 UTC


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("30m", 1800), ("2h", 7200), ("1d", 86400), ("45", 45)]
)
def test_durations_read_as_people_write_them(text: str, seconds: float) -> None:
    assert parse_duration_s(text, name="--recall-after") == seconds


def test_an_unreadable_duration_names_the_option_and_the_form() -> None:
    with pytest.raises(InputError, match=r"--recall-after '2 weeks'.*90s, 30m or 2h"):
        parse_duration_s("2 weeks", name="--recall-after")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(45, "45s"), (303, "5m 03s"), (7500, "2h 05m"), (93_900, "1d 2h 05m"), (-3, "0s")],
)
def test_durations_are_written_one_way(seconds: float, text: str) -> None:
    assert duration_text(seconds) == text


def test_an_endless_duration_says_so_in_the_words_of_its_door() -> None:
    assert duration_text(float("inf")) == "forever"  # the dry run's estimate
    assert formatting.duration_text(float("inf")) == "never"  # the page
    assert formatting.duration_text(None) == "-"


def test_a_default_duration_is_shown_as_it_would_be_written() -> None:
    assert (hours_text(86_400), hours_text(1800)) == ("24h", "0.5h")
    assert parse_duration_s(hours_text(86_400), name="x") == 86_400


def test_the_live_eta_and_the_age_of_a_call_are_compact() -> None:
    assert (eta_text(303), eta_text(3900)) == ("5m03s", "1h05m")
    assert [age_text(s) for s in (45, 840, 10_800)] == ["45 s", "14 min", "3 h"]


def test_rates_take_the_largest_unit_that_reads_at_least_one() -> None:
    assert [rate_text(r) for r in (8, 0.5, 0.005)] == ["8 calls/s", "30 calls/min", "18 calls/h"]
    assert formatting.rate_text(8) == rate_text(8)


def test_times_are_written_in_utc_with_the_zone_named() -> None:
    assert utc_text(MOMENT_S) == "2026-12-01 15:20 UTC"
    assert iso_utc_text(MOMENT_S) == "2026-12-01T15:20:07Z"
    assert formatting.utc_text(MOMENT_S) == utc_text(MOMENT_S)
    assert formatting.utc_text(None) == "-"


def test_a_scheduled_time_is_written_in_its_campaigns_zone_with_the_zone_named() -> None:
    moment = datetime.fromtimestamp(MOMENT_S, UTC)
    new_york = ZoneInfo("America/New_York")
    assert local_text(moment, new_york) == "2026-12-01 10:20 EST"
    assert local_text(moment, new_york, weekday=True) == "Tue 2026-12-01 10:20 EST"
