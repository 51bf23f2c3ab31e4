"""The calling gate: may this row be called now, under `--window` and its place's calling
rules (campaigns.dialing.rules), and if not, when next? Checked by the engine just before a dial.

Both are judged in the recipient's local time in every zone the number may ring in (a number
with no known zone is never held back, as with `--window`). Without a rules file, or for a
number no rule governs, the gate is `--window` alone, exactly as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from campaigns.dialing.rules import CallingRule, CallingRules, days_text, rule_names
from campaigns.dialing.windows import CallingWindow

WAITING_FOR_RULE = "outside calling rule"  # how a row's error says it waits for its rule
RULES_SEARCH_DAYS = 31  # a rule's next allowed moment is looked for this far ahead
_MAX_STEPS = 1000
_DAY_S = 86_400
_NEVER_CACHE_S = 3600.0  # "not within the search" is looked for again after this


@dataclass(frozen=True)
class Closed:
    """A row that may not be called now: when it may be (None: not within the search), and
    why, naming its rule ("" when only `--window` holds it, which says nothing per row)."""

    opens_at: float | None
    reason: str


class CallingGate:
    def __init__(self, window: CallingWindow, rules: CallingRules | None) -> None:
        self.window = window
        self.rules = rules
        # (rule names, zones) -> (asked at, next allowed): one search per kind of row, reused
        # until that moment comes (every row of that kind is allowed then, none before).
        self._opens: dict[tuple[str, tuple[str, ...]], tuple[float, float | None]] = {}

    def closed(self, number: str, zones: tuple[str, ...], now: float) -> Closed | None:
        """None when the row may be called at `now`."""
        governing = self.rules.governing(number) if self.rules is not None else ()
        if not governing:
            if self.window.is_always_open or self.window.is_open(zones, now):
                return None
            return Closed(self.window.next_open(zones, now), "")
        if allowed(self.window, governing, zones, now):
            return None
        opens = self._next_allowed(governing, zones, now)
        return Closed(opens, closed_reason(self.window, governing, zones, opens))

    def _next_allowed(
        self, governing: tuple[CallingRule, ...], zones: tuple[str, ...], now: float
    ) -> float | None:
        key = (rule_names(governing), zones)
        cached = self._opens.get(key)
        if cached is not None:
            asked, opens = cached
            until = opens if opens is not None else asked + _NEVER_CACHE_S
            if asked <= now < until:
                return opens
        opens = next_allowed(self.window, governing, zones, now)
        self._opens[key] = (now, opens)
        return opens


def allowed(
    window: CallingWindow, rules: Sequence[CallingRule], zones: Sequence[str], at: float
) -> bool:
    """Whether `--window` and every rule allow a call at epoch `at` in every zone."""
    if not window.is_open(zones, at):
        return False
    for zone in zones:
        local = datetime.fromtimestamp(at, ZoneInfo(zone))
        if not all(rule.allows(local) for rule in rules):
            return False
    return True


def next_allowed(
    window: CallingWindow, rules: Sequence[CallingRule], zones: Sequence[str], at: float
) -> float | None:
    """The earliest epoch time >= `at` that `allowed` holds at, or None within
    RULES_SEARCH_DAYS. Each window is moved to its next opening in turn until all are open
    together; a day the rules forbid (weekday, date) moves on to that zone's next midnight."""
    windows = [window, *(rule.window for rule in rules)]
    horizon = at + RULES_SEARCH_DAYS * _DAY_S
    t = at
    for _ in range(_MAX_STEPS):
        if t > horizon:
            return None
        moved = t
        for each in windows:
            opens = each.next_open(zones, moved)
            if opens is None:
                return None
            moved = max(moved, opens)
        if moved > t:
            t = moved
            continue
        shut = [z for z in zones if not _day_allowed(rules, z, t)]
        if not shut:
            return t
        t = max(_next_midnight(zone, t) for zone in shut)
    return None


def _day_allowed(rules: Sequence[CallingRule], zone: str, at: float) -> bool:
    day = datetime.fromtimestamp(at, ZoneInfo(zone)).date()
    return all(rule.allows_day(day) for rule in rules)


def _next_midnight(zone: str, at: float) -> float:
    tz = ZoneInfo(zone)
    day = datetime.fromtimestamp(at, tz).date() + timedelta(days=1)
    return max(datetime.combine(day, time(0), tz).timestamp(), at + 1.0)


def closed_reason(
    window: CallingWindow,
    rules: Sequence[CallingRule],
    zones: Sequence[str],
    opens: float | None,
) -> str:
    """`outside calling rule US-FL (08:00-20:00, Mon-Sat) and --window 08:00-21:00 in the
    recipient's local time; next allowed Mon 2026-12-07 08:00 America/New_York`."""
    what = "; ".join(f"{rule.name} ({rule.describe()})" for rule in rules)
    text = f"{WAITING_FOR_RULE}{'s' if len(rules) > 1 else ''} {what}"
    if not window.is_always_open:
        text += f" and --window {window}"
    text += " in the recipient's local time"
    if opens is None:
        return f"{text}; no call allowed in the next {RULES_SEARCH_DAYS} days"
    if not zones:
        return text
    local = datetime.fromtimestamp(opens, ZoneInfo(zones[0]))
    return f"{text}; next allowed {local:%a %Y-%m-%d %H:%M} {zones[0]}"


def window_text(window: CallingWindow, rules: Sequence[CallingRule]) -> str:
    """The window a call was allowed in, for the attempt log: `--window` and the rules'
    windows together (`09:00-20:00` when one window lies inside the other), then the days."""
    windows = [w for w in (window, *(r.window for r in rules)) if not w.is_always_open]
    text = " and ".join(dict.fromkeys(str(w) for w in _narrowed(windows))) or "any"
    days = frozenset(range(7))
    for rule in rules:
        days &= rule.days
    return text if len(days) == 7 else f"{text}, {days_text(days)}"


def _narrowed(windows: list[CallingWindow]) -> list[CallingWindow]:
    """Windows that do not cross midnight intersect into one; others are kept side by side."""
    simple = [w for w in windows if not w.is_always_open and (w.start_s or 0) < (w.end_s or 0)]
    if len(simple) < 2:
        return windows
    start = max(w.start_s or 0 for w in simple)
    end = min(w.end_s or 0 for w in simple)
    rest = [w for w in windows if w not in simple]
    return ([CallingWindow(start, end)] if start < end else simple) + rest
