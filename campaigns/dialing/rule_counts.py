"""The dry-run plan's view of the calling rules: how many ready rows each rule governs, and
when its rows may first be called, with `--window` (campaigns.plan prints it)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from campaigns.dialing.calling_gate import RULES_SEARCH_DAYS, next_allowed
from campaigns.dialing.rules import CallingRule, CallingRules, rule_names
from campaigns.dialing.windows import CallingWindow
from campaigns.store.rows import NewRow


@dataclass(frozen=True)
class RuleOpening:
    rule: str  # `US-FL`, `CA-NS+CA-PE`, `default`, `none`
    ready_rows: int
    opens_at: float | None  # the first moment one of its rows may be called; None: not soon
    opens_zone: str  # the zone that moment is shown in ("" when none)
    never_rows: int  # rows its rules and --window allow no call within RULES_SEARCH_DAYS


class RuleTally:
    """Ready rows by their governing rules and zones (a handful of kinds, whatever the rows)."""

    def __init__(self) -> None:
        self.kinds: Counter[tuple[str, tuple[str, ...]]] = Counter()
        self.rules: dict[str, tuple[CallingRule, ...]] = {}

    def add(self, rules: CallingRules, row: NewRow) -> None:
        governing = rules.governing(row.to_number)
        name = rule_names(governing)
        self.rules.setdefault(name, governing)
        self.kinds[(name, row.zones)] += 1

    def openings(self, window: CallingWindow, now: float) -> list[RuleOpening]:
        """One line per rule, most rows first; each kind of row is searched once."""
        rows: Counter[str] = Counter()
        never: Counter[str] = Counter()
        first: dict[str, tuple[float, str]] = {}
        for (name, zones), count in self.kinds.items():
            rows[name] += count
            opens = next_allowed(window, self.rules[name], zones, now)
            if opens is None:
                never[name] += count
            elif name not in first or opens < first[name][0]:
                first[name] = (opens, zones[0] if zones else "")
        return [
            RuleOpening(
                name,
                count,
                first[name][0] if name in first else None,
                first[name][1] if name in first else "",
                never[name],
            )
            for name, count in rows.most_common()
        ]


def rules_text(openings: list[RuleOpening], now: float) -> str:
    """The plan's lines on the rules, laid out as its time zones are."""
    if not openings:
        return "Calling rules: no ready rows."
    lines = ["Calling rules of ready rows (with --window, in each one's local time):"]
    width = max(len(o.rule) for o in openings)
    for o in openings:
        lines.append(
            f"  {o.rule:<{width}}  {o.ready_rows:>12,} {_rows(o.ready_rows)}  {_when(o, now)}"
        )
    never = sum(o.never_rows for o in openings)
    if never:
        lines.append(
            f"  {never:,} ready rows are never allowed a call by their rule and the window in "
            f"the next {RULES_SEARCH_DAYS} days: they would end not_called."
        )
    return "\n".join(lines)


def _rows(count: int) -> str:
    return "row " if count == 1 else "rows"


def _when(opening: RuleOpening, now: float) -> str:
    if opening.opens_at is None:
        return f"no call allowed in the next {RULES_SEARCH_DAYS} days"
    if opening.opens_at <= now:
        return "open now"
    wait_min = round((opening.opens_at - now) / 60)
    days, minutes = divmod(wait_min, 1440)
    wait = (f"{days}d " if days else "") + f"{minutes // 60}h {minutes % 60:02d}m"
    if not opening.opens_zone:
        return f"opens in {wait}"
    local = datetime.fromtimestamp(opening.opens_at, ZoneInfo(opening.opens_zone))
    return f"opens in {wait} ({local:%a %H:%M} {opening.opens_zone})"
