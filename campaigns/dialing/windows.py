"""Calling windows: the hours a person may be called, in their own local time (DESIGN.md, 3).

A window is `HH:MM-HH:MM`, start included, end excluded; it may run across midnight
(`20:00-02:00`). A number whose possible zones disagree may be called only while every one of
them is inside the window. Local time comes from zoneinfo, so DST changes are honoured: on the
day clocks jump, the window opens at the jump if its start time is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dialer.errors import InputError

WINDOW_FORM = "HH:MM-HH:MM in the person's local time (for example 08:00-21:00), or 'any'"
SEARCH_DAYS = 8  # next_open looks this far ahead before saying "never"
_DAY_S = 86_400
_WINDOW_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def _seconds_of_day(hours: str, minutes: str, *, is_end: bool) -> int | None:
    h, m = int(hours), int(minutes)
    if m > 59 or h > 24 or (h == 24 and (m or not is_end)):
        return None
    return h * 3600 + m * 60


@dataclass(frozen=True)
class CallingWindow:
    """`start_s`/`end_s` are seconds after local midnight; both None means always open."""

    start_s: int | None = None
    end_s: int | None = None

    @classmethod
    def parse(cls, text: str) -> CallingWindow:
        if text.strip().lower() == "any":
            return cls()
        match = _WINDOW_RE.match(text)
        start = match and _seconds_of_day(match[1], match[2], is_end=False)
        end = match and _seconds_of_day(match[3], match[4], is_end=True)
        if match is None or start is None or end is None:
            raise InputError(f"--window {text!r} is not a window: write it as {WINDOW_FORM}.")
        if start == end % _DAY_S:
            raise InputError(
                f"--window {text!r} opens and closes at the same time: "
                "to call at any hour write --window any."
            )
        return cls(start, end)

    @property
    def is_always_open(self) -> bool:
        return self.start_s is None or self.end_s is None

    @property
    def text(self) -> str:
        """The window as written for --window; `parse(text)` gives it back."""
        return str(self)

    def __str__(self) -> str:
        if self.start_s is None or self.end_s is None:
            return "any"
        return f"{_hhmm(self.start_s)}-{_hhmm(self.end_s)}"

    def contains(self, local_s: int) -> bool:
        """Whether `local_s` seconds after local midnight is inside the window."""
        if self.start_s is None or self.end_s is None:
            return True
        if self.start_s < self.end_s:
            return self.start_s <= local_s < self.end_s
        return local_s >= self.start_s or local_s < self.end_s  # across midnight

    def is_open(self, zones: Sequence[str], at: float) -> bool:
        """Whether it is inside the window at epoch `at` in every zone (no zones: open)."""
        if self.is_always_open:
            return True
        return all(self.contains(_local_seconds(zone, at)) for zone in zones)

    def next_open(self, zones: Sequence[str], at: float) -> float | None:
        """The earliest epoch time >= `at` when every zone is inside the window, or None if
        that does not happen within SEARCH_DAYS."""
        if self.is_open(zones, at):
            return at
        # All zones become inside together at the moment the last of them enters: a window
        # start, or a DST change moving local time into the window. Try those in order.
        horizon = at + SEARCH_DAYS * _DAY_S
        candidates = sorted({t for zone in zones for t in self._entries(zone, at, horizon)})
        return next((t for t in candidates if self.is_open(zones, t)), None)

    def _entries(self, zone: str, at: float, horizon: float) -> Iterator[float]:
        """Instants in (at, horizon] when local time in `zone` may enter the window."""
        assert self.start_s is not None
        tz = ZoneInfo(zone)
        first_day = datetime.fromtimestamp(at, tz).date() - timedelta(days=1)
        start = time(self.start_s // 3600, self.start_s % 3600 // 60)
        for offset in range(SEARCH_DAYS + 2):
            day = first_day + timedelta(days=offset)
            instants = [datetime.combine(day, start, tz).timestamp()]
            instants.extend(_offset_changes(tz, day))
            yield from (t for t in instants if at < t <= horizon)


def _local_seconds(zone: str, at: float) -> int:
    local = datetime.fromtimestamp(at, ZoneInfo(zone))
    return local.hour * 3600 + local.minute * 60 + local.second


def _offset_changes(tz: ZoneInfo, day: date) -> Iterator[float]:
    """The instant (to the second) the zone's UTC offset changes on `day`, if it does."""
    low = int(datetime.combine(day, time(0), tz).timestamp())
    high = low + _DAY_S + 3600
    if _offset_s(tz, low) == _offset_s(tz, high):
        return
    before = _offset_s(tz, low)
    while high - low > 1:  # bisect to the first second with the new offset
        middle = (low + high) // 2
        if _offset_s(tz, middle) == before:
            low = middle
        else:
            high = middle
    yield float(high)


def _offset_s(tz: ZoneInfo, at: float) -> float:
    offset = datetime.fromtimestamp(at, tz).utcoffset()
    return offset.total_seconds() if offset is not None else 0.0


def _hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
