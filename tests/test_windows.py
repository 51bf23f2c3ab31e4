"""Calling windows in the recipient's local time, across DST changes and several zones."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from campaigns.dialing.windows import CallingWindow
from dialer.errors import InputError

NEW_YORK, LONDON, LOS_ANGELES = "America/New_York", "Europe/London", "America/Los_Angeles"
DAY = CallingWindow.parse("08:00-21:00")


def at(zone: str, text: str) -> float:
    """Epoch seconds of a local wall time, e.g. at(LONDON, "2024-03-31 08:00")."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp()


def test_parse_and_text_round_trip() -> None:
    assert CallingWindow.parse(" 8:00 - 21:30 ").text == "08:00-21:30"
    assert CallingWindow.parse("any").is_always_open
    assert CallingWindow.parse(DAY.text) == DAY


@pytest.mark.parametrize("text", ["8-21", "08:00", "25:00-26:00", "08:60-09:00", "09:00-09:00"])
def test_bad_windows_name_the_option_and_the_form(text: str) -> None:
    with pytest.raises(InputError, match="--window"):
        CallingWindow.parse(text)


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        (NEW_YORK, "2024-03-10"),
        (NEW_YORK, "2024-11-03"),
        (LONDON, "2024-03-31"),
        (LONDON, "2024-10-27"),
    ],
)
def test_local_hours_hold_on_both_dst_change_days(zone: str, day: str) -> None:
    assert not DAY.is_open([zone], at(zone, f"{day} 07:59"))
    assert DAY.is_open([zone], at(zone, f"{day} 08:00"))
    assert DAY.is_open([zone], at(zone, f"{day} 20:59"))
    assert not DAY.is_open([zone], at(zone, f"{day} 21:00"))
    assert DAY.next_open([zone], at(zone, f"{day} 00:30")) == at(zone, f"{day} 08:00")


def test_a_number_with_several_zones_waits_for_the_last_to_open() -> None:
    zones = [NEW_YORK, LOS_ANGELES]
    assert not DAY.is_open(zones, at(NEW_YORK, "2024-07-01 09:00"))  # 06:00 in LA
    assert DAY.is_open(zones, at(LOS_ANGELES, "2024-07-01 08:00"))
    assert not DAY.is_open(zones, at(NEW_YORK, "2024-07-01 21:00"))  # closed in NY
    assert DAY.next_open(zones, at(NEW_YORK, "2024-07-01 22:00")) == at(
        LOS_ANGELES, "2024-07-02 08:00"
    )


def test_london_and_new_york_overlap_shifts_when_only_one_changes_clocks() -> None:
    zones = [LONDON, NEW_YORK]
    window = CallingWindow.parse("09:00-17:00")
    # 2024-03-20: New York on summer time, London not yet: 4 hours apart, not 5.
    assert window.next_open(zones, at(LONDON, "2024-03-20 00:00")) == at(
        NEW_YORK, "2024-03-20 09:00"
    )
    assert window.is_open(zones, at(LONDON, "2024-03-20 16:59"))
    assert window.is_open(zones, at(LONDON, "2024-03-20 13:30"))  # 09:30 in New York
    assert not window.is_open(zones, at(LONDON, "2024-04-20 13:30"))  # 5 hours apart again


def test_window_across_midnight_and_a_start_skipped_by_the_clock_change() -> None:
    night = CallingWindow.parse("20:00-02:00")
    assert night.is_open([NEW_YORK], at(NEW_YORK, "2024-07-01 23:30"))
    assert night.is_open([NEW_YORK], at(NEW_YORK, "2024-07-02 01:59"))
    assert not night.is_open([NEW_YORK], at(NEW_YORK, "2024-07-02 02:00"))
    skipped = CallingWindow.parse("02:30-05:00")  # 02:30 never happens on 2024-03-10
    opens = skipped.next_open([NEW_YORK], at(NEW_YORK, "2024-03-10 00:00"))
    assert opens == at(NEW_YORK, "2024-03-10 03:00")


def test_never_open_together_and_always_open() -> None:
    hour = CallingWindow.parse("08:00-09:00")
    assert hour.next_open(["Pacific/Kiritimati", "Pacific/Pago_Pago"], 1_700_000_000.0) is None
    anytime = CallingWindow.parse("any")
    assert anytime.is_open([NEW_YORK], 1_700_000_000.0)
    assert anytime.next_open([NEW_YORK], 1_700_000_000.0) == 1_700_000_000.0
