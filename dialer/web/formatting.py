"""How numbers and times read on the page (Jinja filters): durations, rates and times as
dialer/durations.py writes them everywhere (times in UTC, with the zone written), with `-` for
what is not known yet."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from campaigns.plan import ZoneOpening
from dialer import durations


def duration_text(seconds: float | None) -> str:
    return "-" if seconds is None else durations.duration_text(seconds, endless="never")


def rate_text(per_s: float) -> str:
    return durations.rate_text(per_s)


def utc_text(epoch_s: float | None) -> str:
    return durations.utc_text(epoch_s) if epoch_s else "-"


def opening_text(opening: ZoneOpening, now: float) -> str:
    if opening.opens_at is None:
        return "the window never opens in the next days"
    if opening.opens_at <= now:
        return "open now"
    local = datetime.fromtimestamp(opening.opens_at, ZoneInfo(opening.zone))
    return f"opens in {duration_text(opening.opens_at - now)} ({local:%a %H:%M} local)"


def size_text(size_bytes: int) -> str:
    if size_bytes >= 1 << 20:
        return f"{size_bytes / (1 << 20):.1f} MB"
    if size_bytes >= 1 << 10:
        return f"{size_bytes / (1 << 10):.0f} KB"
    return f"{size_bytes} bytes"


def number_text(value: int) -> str:
    return f"{value:,}"
