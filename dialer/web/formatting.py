"""How numbers and times read on the page (Jinja filters). Times are shown in UTC, with the
zone written, as `dialer status` shows them: the person, the server and the contacts may all
be in different zones."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from campaigns.plan import ZoneOpening


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds == float("inf"):
        return "never"
    whole = max(round(seconds), 0)
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h {minutes:02d}m"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def rate_text(per_s: float) -> str:
    if per_s >= 1:
        return f"{per_s:.3g} calls/s"
    if per_s * 60 >= 1:
        return f"{per_s * 60:.3g} calls/min"
    return f"{per_s * 3600:.3g} calls/h"


def utc_text(epoch_s: float | None) -> str:
    if not epoch_s:
        return "-"
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%d %H:%M UTC")


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
