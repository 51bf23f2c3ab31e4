"""The rules file (`--rules FILE`, the campaign-file key `rules`): TOML, read once, checked
strictly. Every mistake is one InputError naming the file, the rule and what to write.

    [default]                      # optional: numbers no other rule matches
    window = "09:00-20:00"

    [rules.US]                     # a country (ISO region)
    window = "08:00-21:00"
    no_calls_on = ["01-01", "07-04", "12-25"]   # MM-DD: every year; YYYY-MM-DD: that day

    [rules."US-FL"]                # a US state or Canadian province (ISO 3166-2)
    window = "08:00-20:00"
    days = "mon-sat"               # or ["mon", "tue", ...]
    note = "stricter state hours"  # free text, shown nowhere else

    [rules."+1-305"]               # a North American area code
    window = "09:00-19:00"

A rule's keys: `window` (HH:MM-HH:MM in the recipient's local time, or "any": the default),
`days` (the days calls are allowed on, by the local date of the call, also for a window that
runs past midnight; default every day), `no_calls_on` (dates without calls)
and `note`. A more specific rule replaces a broader one wholly (repeat holidays in it).
The same form, as JSON, is stored with the campaign's policy (`rules_from_json`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import phonenumbers

from campaigns.dialing.rules import (
    ALL_DAYS,
    DAY_NAMES,
    DEFAULT_RULE,
    CallingRule,
    CallingRules,
    area_code_rule,
)
from campaigns.dialing.windows import WINDOW_FORM, CallingWindow
from campaigns.lists.nanp_areas import PLACES
from dialer.errors import InputError

MAX_RULES_FILE_BYTES = 1_000_000
RULE_KEYS = ("window", "days", "no_calls_on", "note")
FILE_KEYS = ("default", "rules")
_AREA_CODE_RE = re.compile(r"^\+1-([2-9]\d\d)$")
_DAY_RE = re.compile(r"^([a-z]{3})[a-z]*$")
_YEARLY_RE = re.compile(r"^(\d\d)-(\d\d)$")
_RULE_FORMS = (
    'a country ("US", "GB"), a state or province ("US-FL", "CA-QC") or an area code ("+1-305")'
)


def read_rules(path: Path, *, option: str = "--rules") -> CallingRules:
    """Read and check a rules file; at most MAX_RULES_FILE_BYTES."""
    try:
        size = path.stat().st_size
        if size > MAX_RULES_FILE_BYTES:
            raise InputError(
                f"{option} {path}: the file is {size:,} bytes; a rules file is at most "
                f"{MAX_RULES_FILE_BYTES:,} bytes."
            )
        with path.open("rb") as file:
            raw = file.read(MAX_RULES_FILE_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{option} {path}: cannot read it ({exc.strerror or exc}).") from None
    if len(raw) > MAX_RULES_FILE_BYTES:
        raise InputError(
            f"{option} {path}: a rules file is at most {MAX_RULES_FILE_BYTES:,} bytes."
        )
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(f"{option} {path}: not UTF-8 text; save it as UTF-8 TOML.") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{option} {path}: not valid TOML: {exc}.") from None
    except RecursionError:  # arrays or tables nested thousands deep: no rules file is
        raise InputError(f"{option} {path}: nested too deep to be a rules file.") from None
    return parse_rules(data, path.name, where=f"{option} {path}")


def rules_from_json(data: Mapping[str, object]) -> CallingRules:
    """The rules as stored with a campaign's policy (CallingRules.to_json)."""
    source = str(data.get("source", "rules"))
    return parse_rules({k: v for k, v in data.items() if k != "source"}, source, where=source)


def parse_rules(data: Mapping[str, object], source: str, *, where: str) -> CallingRules:
    unknown = sorted(set(data) - set(FILE_KEYS))
    if unknown:
        raise InputError(
            f"{where}: unknown key {unknown[0]!r} at the top: write rules as [rules.US], "
            '[rules."US-FL"], [rules."+1-305"], and a fallback as [default].'
        )
    tables = data.get("rules", {})
    if not isinstance(tables, dict):
        raise InputError(
            f'{where}: "rules" must be tables, like [rules.US] window = "08:00-21:00".'
        )
    default = data.get("default")
    if not tables and default is None:
        raise InputError(
            f'{where}: no rules: add one, like [rules.US] window = "08:00-21:00" (or [default]).'
        )
    rules = {}
    for key, table in tables.items():
        name = _rule_name(str(key), where)
        if name in rules:
            raise InputError(f"{where}: rule {key!r} is given twice (as {name!r}): keep one.")
        rules[name] = _rule(name, table, where)
    fallback = None if default is None else _rule(DEFAULT_RULE, default, where)
    return CallingRules(rules, fallback, source)


def _rule_name(key: str, where: str) -> str:
    text = key.strip().upper()
    if (match := _AREA_CODE_RE.match(text)) is not None:
        return area_code_rule(match[1])
    if "-" in text and not text.startswith("+"):
        if text in PLACES:
            return text
        raise InputError(
            f"{where}: rule {key!r}: not a US state or Canadian province this dialer knows; "
            f'write it as "US-FL" or "CA-QC" (ISO 3166-2).'
        )
    if text in phonenumbers.SUPPORTED_REGIONS:
        return text
    if key.strip().lower() == DEFAULT_RULE:
        raise InputError(f"{where}: write the default rule as [default], not [rules.default].")
    raise InputError(f"{where}: rule {key!r} names no place: write {_RULE_FORMS}.")


def _rule(name: str, table: object, where: str) -> CallingRule:
    label = "[default]" if name == DEFAULT_RULE else f"rule {name!r}"
    at = f"{where}: {label}"
    if not isinstance(table, dict):
        raise InputError(f'{at}: write it as a table with keys, like window = "08:00-21:00".')
    unknown = sorted(set(table) - set(RULE_KEYS))
    if unknown:
        raise InputError(
            f"{at}: unknown key {unknown[0]!r}; a rule's keys are {', '.join(RULE_KEYS)}."
        )
    note = table.get("note", "")
    if not isinstance(note, str):
        raise InputError(f'{at}, key "note": write text, like note = "state law".')
    return CallingRule(
        name=name,
        window=_window(table.get("window", "any"), at),
        days=_days(table.get("days"), at),
        no_calls_on=_dates(table.get("no_calls_on", []), at),
        note=note,
    )


def _window(value: object, at: str) -> CallingWindow:
    hint = f'{at}, key "window": write {WINDOW_FORM}'
    if not isinstance(value, str):
        raise InputError(f'{hint}, in quotes: window = "08:00-21:00".')
    try:
        return CallingWindow.parse(value)
    except InputError:
        raise InputError(
            f"{hint}; {value!r} is not one (hours 00-24, minutes 00-59, two different times)."
        ) from None


def _days(value: object, at: str) -> frozenset[int]:
    hint = (
        f'{at}, key "days": write the days calls are allowed on, '
        'like days = "mon-fri" or ["mon", "sat"]'
    )
    if value is None:
        return ALL_DAYS
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",")]
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        parts = [str(v).strip() for v in value]
    else:
        raise InputError(f"{hint}.")
    days: set[int] = set()
    for part in parts:
        first, _, last = part.partition("-")
        start, end = _day(first, hint), _day(last or first, hint)
        days.update(d % 7 for d in range(start, end + 1 if end >= start else end + 8))
    if not days:
        raise InputError(f"{hint}; a rule allows calls on at least one day.")
    return frozenset(days)


def _day(text: str, hint: str) -> int:
    match = _DAY_RE.match(text.strip().lower())
    if match is None or match[1] not in DAY_NAMES:
        raise InputError(f"{hint}; {text!r} is not a day (mon, tue, wed, thu, fri, sat, sun).")
    return DAY_NAMES.index(match[1])


def _dates(value: object, at: str) -> frozenset[str]:
    hint = (
        f'{at}, key "no_calls_on": write a list of dates, "YYYY-MM-DD" (that day) or '
        '"MM-DD" (every year), like no_calls_on = ["12-25", "2026-11-26"]'
    )
    if not isinstance(value, list):
        raise InputError(f"{hint}.")
    return frozenset(_date(item, hint) for item in value)


def _date(item: object, hint: str) -> str:
    if isinstance(item, date) and not hasattr(item, "hour"):
        return item.isoformat()  # a TOML date, written without quotes
    if isinstance(item, str):
        text = item.strip()
        yearly = _YEARLY_RE.match(text)
        try:
            if yearly is not None:
                date(2000, int(yearly[1]), int(yearly[2]))  # a leap year: 02-29 is a day
                return text
            if len(text) == 10:
                return date.fromisoformat(text).isoformat()
        except ValueError:
            pass
    raise InputError(f"{hint}; {item!r} is not such a date.")
