"""Durations, rates and times as text, both ways: one reader for durations as people write them
(`90s`, `30m`, `2h`, `1d`) for every option, campaign-file key and form field that takes one,
and the one way each is written for a person (the CLI, the dry run, the page, the reports).

Times are written in UTC with the zone named (`2026-12-01 15:20 UTC`): the person, the server
and the contacts may all be in different zones.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from dialer.errors import InputError

__all__ = [
    "age_text",
    "duration_text",
    "eta_text",
    "hours_text",
    "iso_utc_text",
    "local_text",
    "parse_duration_s",
    "rate_text",
    "utc_text",
]


def parse_duration_s(text: str, *, name: str) -> float:
    """`90s`, `30m`, `2h`, `1d` (or a bare number of seconds)."""
    units = {"s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
    t = text.strip().lower()
    number = t.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = t[len(number) :] or "s"
    try:
        value = float(number)
    except ValueError:
        value = -1.0
    if unit not in units or value < 0:
        raise InputError(f"{name} {text!r} is not a duration: write it like 90s, 30m or 2h.")
    return value * units[unit]


def hours_text(seconds: float) -> str:
    """`24h`, `0.5h`: a duration in hours as people write it (and `parse_duration_s` reads)."""
    return f"{seconds / 3600:g}h"


def duration_text(seconds: float, *, endless: str = "forever") -> str:
    """`1d 2h 05m`, `2h 05m`, `5m 03s`, `45s`; `endless` for an infinite duration."""
    if seconds == float("inf"):
        return endless
    whole = max(round(seconds), 0)
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h {minutes:02d}m"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def eta_text(seconds: float) -> str:
    """`1h05m`, `5m03s`: the compact form of a live progress line's ETA."""
    whole = int(max(seconds, 0))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def age_text(age_s: float) -> str:
    """`14 min`, `45 s`, `3 h`: how long ago, roughly. Mirrored by `age_text` in
    campaigns/store/redis_store.py's Lua (tests compare the two stores' messages)."""
    age = max(int(age_s), 0)
    if age < 60:
        return f"{age} s"
    if age < 7200:
        return f"{age // 60} min"
    return f"{age // 3600} h"


def rate_text(per_s: float) -> str:
    """`8 calls/s`, `30 calls/min`, `12 calls/h`: the largest unit that reads at least 1."""
    if per_s >= 1:
        return f"{per_s:.3g} calls/s"
    if per_s * 60 >= 1:
        return f"{per_s * 60:.3g} calls/min"
    return f"{per_s * 3600:.3g} calls/h"


def utc_text(epoch_s: float) -> str:
    """`2026-12-01 15:20 UTC`."""
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%d %H:%M UTC")


def local_text(moment: datetime, zone: tzinfo, *, weekday: bool = False) -> str:
    """`2026-12-01 09:00 EST` (`Tue 2026-12-01 09:00 EST` with `weekday`): a time in a
    campaign's own zone, the zone named."""
    day = "%a " if weekday else ""
    return moment.astimezone(zone).strftime(f"{day}%Y-%m-%d %H:%M %Z")


def iso_utc_text(epoch_s: float) -> str:
    """`2026-12-01T15:20:07Z`: ISO-8601 to the second, for files and log-like lines."""
    return datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
