"""Durations as people write them (`90s`, `30m`, `2h`, `1d`): one reader for every option,
campaign-file key and form field that takes one."""

from __future__ import annotations

from dialer.errors import InputError

__all__ = ["parse_duration_s"]


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
