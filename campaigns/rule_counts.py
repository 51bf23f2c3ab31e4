"""The dry-run plan's view of the calling rules: how many ready rows each rule governs, and
how many their rule and `--window` never allow (campaigns.plan prints it)."""

from __future__ import annotations

from collections import Counter

from campaigns.calling_gate import RULES_SEARCH_DAYS, next_allowed
from campaigns.rules import CallingRule, CallingRules, rule_names
from campaigns.store import NewRow
from campaigns.windows import CallingWindow


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

    def counts(self) -> dict[str, int]:
        by_rule: Counter[str] = Counter()
        for (name, _), count in self.kinds.items():
            by_rule[name] += count
        return dict(by_rule.most_common())

    def never_allowed(self, window: CallingWindow, now: float) -> int:
        never = 0
        for (name, zones), count in self.kinds.items():
            rules = self.rules[name]
            if rules and next_allowed(window, rules, zones, now) is None:
                never += count
        return never


def rules_text(by_rule: dict[str, int], never_allowed_rows: int) -> str:
    """`Calling rules (...): US-FL 312 rows, US 1,020 rows, default 14 rows.`"""
    counts = ", ".join(f"{name} {count:,} rows" for name, count in by_rule.items())
    text = f"Calling rules (ready rows by the rule that governs them): {counts or 'no ready rows'}."
    if never_allowed_rows:
        text += (
            f"\n  {never_allowed_rows:,} ready rows are never allowed a call by their rule "
            f"and the window in the next {RULES_SEARCH_DAYS} days: they would end not_called."
        )
    return text
