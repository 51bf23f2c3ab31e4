"""Calling rules per place: the window, days and dates on which a person may be called,
by their country, US state or Canadian province, or North American area code (`--rules FILE`,
read by campaigns.dialing.rules_file).

A rule is named by its place: `US`, `GB` (a country, the ISO region phonenumbers gives the
number), `US-FL`, `CA-QC` (a state or province, from the number's area code:
campaigns.lists.nanp_areas) or `+1-305` (an area code). The most specific rule that matches a number
governs it: area code, then state, then country, then the file's `[default]` rule, if any. A
number whose area code covers several provinces (902: Nova Scotia and Prince Edward Island) is
governed by each one's rule together. A rule is judged in the recipient's local time, in every
zone the number may ring in, like `--window` (campaigns.dialing.windows), and together with it:
a call is allowed only when both allow it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

import phonenumbers

from campaigns.dialing.windows import CallingWindow
from campaigns.lists.nanp_areas import places_of_area_code

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_DAYS = frozenset(range(7))
DEFAULT_RULE = "default"
NO_RULE = "none"  # the name shown for rows no rule governs (no [default] rule)


@dataclass(frozen=True)
class CallingRule:
    """One place's rule. `days` holds `date.weekday()` numbers on which calls are allowed;
    `no_calls_on` holds dates as `YYYY-MM-DD` (that day) or `MM-DD` (that day every year)."""

    name: str
    window: CallingWindow = field(default_factory=CallingWindow)
    days: frozenset[int] = ALL_DAYS
    no_calls_on: frozenset[str] = frozenset()
    note: str = ""

    def allows_day(self, day: date) -> bool:
        iso = day.isoformat()
        return (
            day.weekday() in self.days
            and iso not in self.no_calls_on
            and iso[5:] not in self.no_calls_on
        )

    def allows(self, local: datetime) -> bool:
        """Whether a call at this local time (in one zone) is inside the rule."""
        seconds = local.hour * 3600 + local.minute * 60 + local.second
        return self.allows_day(local.date()) and self.window.contains(seconds)

    @property
    def days_text(self) -> str:
        return days_text(self.days)

    def describe(self) -> str:
        """`09:00-20:00, Mon-Sat, no calls on 01-01, 07-04 and 1 more date`."""
        parts = [str(self.window)] if not self.window.is_always_open else ["any hour"]
        if self.days != ALL_DAYS:
            parts.append(self.days_text)
        if self.no_calls_on:
            dates = sorted(self.no_calls_on)
            shown = ", ".join(dates[:3])
            more = len(dates) - 3
            parts.append(f"no calls on {shown}" + (f" and {more} more" if more > 0 else ""))
        return ", ".join(parts)

    def to_json(self) -> dict[str, object]:
        """As a rules file writes it (campaigns.dialing.rules_file reads it back)."""
        data: dict[str, object] = {
            "window": self.window.text,
            "days": [DAY_NAMES[d] for d in sorted(self.days)],
            "no_calls_on": sorted(self.no_calls_on),
        }
        if self.note:
            data["note"] = self.note
        return data


def days_text(days: frozenset[int]) -> str:
    """`Mon-Fri`, `Mon-Wed, Fri`, `every day`, `no day`."""
    if days == ALL_DAYS:
        return "every day"
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    names = [DAY_NAMES[d].title() for d in range(7)]
    return (
        ", ".join(names[r[0]] if len(r) == 1 else f"{names[r[0]]}-{names[r[-1]]}" for r in runs)
        or "no day"
    )


def area_code_rule(area_code: str) -> str:
    """The rule name of a North American area code: `+1-305`."""
    return f"+1-{area_code}"


class CallingRules:
    """A rules file's rules, read once (campaigns.dialing.rules_file), matched to numbers."""

    def __init__(
        self, rules: Mapping[str, CallingRule], default: CallingRule | None, source: str
    ) -> None:
        self.rules = dict(rules)
        self.default = default
        self.source = source  # the file's name, for messages and the plan
        self._nanp_regions: dict[str, str] = {}  # area code -> region, as numbers are seen

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CallingRules) and (self.rules, self.default, self.source) == (
            other.rules,
            other.default,
            other.source,
        )

    __hash__ = None  # type: ignore[assignment]

    def governing(self, number: str) -> tuple[CallingRule, ...]:
        """The rules that govern an E.164 number, most specific first; () when none does."""
        region, area_code = self._place(number)
        if area_code and (rule := self.rules.get(area_code_rule(area_code))):
            return (rule,)
        fallback = self.rules.get(region) or self.default
        found: list[CallingRule] = []
        for place in places_of_area_code(area_code) if area_code else ():
            rule = self.rules.get(place) or fallback
            if rule is not None and rule not in found:
                found.append(rule)
        if not found and fallback is not None:
            found.append(fallback)
        return tuple(found)

    def name_for(self, number: str) -> str:
        """The governing rule's name (`US-FL`, `CA-NS+CA-PE`), or `none`."""
        return rule_names(self.governing(number))

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "source": self.source,
            "rules": {name: rule.to_json() for name, rule in self.rules.items()},
        }
        if self.default is not None:
            data["default"] = self.default.to_json()
        return data

    def _place(self, number: str) -> tuple[str, str]:
        """(ISO region, area code for +1 numbers else "") of an E.164 number."""
        digits = number.removeprefix("+")
        if not digits.isdigit():
            return "", ""
        if digits.startswith("1") and len(digits) == 11:
            area_code = digits[1:4]
            region = self._nanp_regions.get(area_code)
            if region is None:
                region = _region(number)
                if region:
                    self._nanp_regions[area_code] = region
            return region, area_code
        for length in (1, 2, 3):
            regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(digits[:length]))
            if not regions:
                continue
            if len(regions) == 1 or not any(r in self.rules for r in regions):
                return regions[0], ""  # which region does not matter: none has a rule
            return _region(number), ""  # +44: GB, GG, IM or JE (~90 us: only when it matters)
        return "", ""


def _region(number: str) -> str:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number)) or ""
    except phonenumbers.NumberParseException:
        return ""


def rule_names(rules: tuple[CallingRule, ...]) -> str:
    return "+".join(rule.name for rule in rules) or NO_RULE
