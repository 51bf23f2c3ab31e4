"""One scheduled campaign's keys read into its options: its own table over [defaults], checked."""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from campaigns.dial_options import (
    DEFAULT_IN_DOUBT,
    DEFAULT_MAX_ACTIVE,
    DEFAULT_REDIAL_AFTER,
    DEFAULT_WINDOW,
    KEY_NAMES,
    DialOptions,
    OptionError,
)
from campaigns.dialing.policy import DialPolicy
from campaigns.dialing.rules import CallingRules
from campaigns.dialing.rules_file import read_rules
from campaigns.lists.contacts import ListOptions
from campaigns.lists.phones import PhoneReader
from campaigns.report.output import REPORT_EXTENSIONS
from campaigns.schedule.cron import CronSchedule
from campaigns.schedule.scheduled_campaign import (
    DEFAULT_REPORT,
    EXAMPLES,
    PLACEHOLDERS,
    REQUIRED_KEYS,
    Missing,
    PathTemplate,
    ScheduledCampaign,
)
from dialer.durations import parse_duration_s
from dialer.errors import InputError

_DAY_S = 86_400


T = TypeVar("T")


@dataclass(frozen=True)
class _Values:
    """One campaign's values: its own table over [defaults], each one knowing where it came
    from, so a message names the table to fix."""

    path: Path
    name: str
    own: Mapping[str, object]
    defaults: Mapping[str, object]

    def where(self, key: str) -> str:
        if key in self.own or key not in self.defaults:
            return f"{self.path}: campaign {self.name!r}, key {key!r}"
        return f"{self.path}: [defaults], key {key!r} (for campaign {self.name!r})"

    def fail(self, key: str, message: str) -> InputError:
        return InputError(f"{self.where(key)}: {message}")

    def get(self, key: str) -> object:
        return self.own.get(key, self.defaults.get(key))

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"write it as text, like {key} = {EXAMPLES[key]}.")
        return value.strip()

    def required(self, key: str) -> str:
        value = self.text(key)
        if value is None:
            raise InputError(
                f"{self.path}: campaign {self.name!r} has no {key!r}: add {key} = "
                f"{EXAMPLES[key]} to [campaigns.{self.name}] or to [defaults]."
            )
        return value

    def parsed(self, key: str, parse: Callable[[str], T], default: str) -> T:
        """`parse` applied to the text, its InputError said with the file, campaign and key."""
        text = self.text(key, default)
        assert text is not None
        try:
            return parse(text)
        except InputError as exc:
            raise self.fail(key, str(exc)) from None

    def whole_number(self, key: str, default: int) -> int:
        value = self.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.fail(key, f"write a whole number of at least 1, like {EXAMPLES[key]}.")
        return value

    def flag(self, key: str) -> bool:
        value = self.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self.fail(key, f"write true or false, like {key} = {EXAMPLES[key]}.")
        return value

    def names(self, key: str) -> list[str] | None:
        value = self.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return [str(v).strip() for v in value]
        raise self.fail(key, f"write a list of column names, like {key} = {EXAMPLES[key]}.")

    def template(self, key: str, default: str | None = None) -> PathTemplate | None:
        text = self.text(key, default)
        if text is None:
            return None
        try:
            fields = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
        except ValueError as exc:
            raise self.fail(key, f"{exc}: write {{{{ and }}}} for a literal brace.") from None
        if not fields <= PLACEHOLDERS:
            unknown = ", ".join(sorted("{" + f + "}" for f in fields - PLACEHOLDERS))
            raise self.fail(key, f"unknown placeholder {unknown}: use {{date}} and {{name}}.")
        return PathTemplate(text, self.path.parent)


def _campaign(values: _Values) -> ScheduledCampaign:
    for key in REQUIRED_KEYS:
        values.required(key)
    zone = values.required("timezone")
    schedule = CronSchedule.parse(values.required("schedule"), zone, where=values.where("schedule"))
    contacts = values.template("contacts")
    report = values.template("report", DEFAULT_REPORT)
    assert contacts is not None and report is not None
    if Path(report.text).suffix.lower() not in REPORT_EXTENSIONS:
        raise values.fail("report", "the report is a .csv or .xlsx file: end the path so.")
    return ScheduledCampaign(
        name=values.name,
        schedule=schedule,
        policy=_policy(values),
        list_options=_list_options(values),
        contacts=contacts,
        report=report,
        suppress=values.template("suppress"),
        missing=values.parsed("missing", _missing, Missing.SKIP.value),
        skip_reached_within_days=values.parsed("skip_reached_within", _days, "off"),
        webhooks=values.flag("webhooks"),
    )


def _policy(values: _Values) -> DialPolicy:
    """The keys as `dialer run`'s flags are read (campaigns.dial_options), each message naming
    the file, the campaign and the key."""
    options = DialOptions(
        agent_id=values.required("agent"),
        rate=values.text("rate"),  # None: the account's call limit
        max_active=values.whole_number("max_active", DEFAULT_MAX_ACTIVE),
        window=values.text("window", DEFAULT_WINDOW) or DEFAULT_WINDOW,
        redial=_redial(values),
        redial_after=values.text("redial_after", DEFAULT_REDIAL_AFTER) or DEFAULT_REDIAL_AFTER,
        recall_after=values.text("recall_after"),
        in_doubt=values.text("in_doubt", DEFAULT_IN_DOUBT) or DEFAULT_IN_DOUBT,
        max_calls=values.text("max_calls"),
        min_balance=values.text("min_balance"),
        rules=_rules(values),
        names=KEY_NAMES,
    )
    try:
        return options.policy()
    except OptionError as exc:
        raise values.fail(exc.option, str(exc)) from None


def _redial(values: _Values) -> str | None:
    """The redial key as `--redial` text: a table {busy = 2} or the text busy=2."""
    value = values.get("redial")
    if isinstance(value, dict):
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in value.values()):
            raise values.fail("redial", f"write whole numbers, like redial = {EXAMPLES['redial']}.")
        value = ",".join(f"{status}={n}" for status, n in value.items())
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise values.fail("redial", f"write it like redial = {EXAMPLES['redial']}.")
    return value


def _list_options(values: _Values) -> ListOptions:
    region = values.parsed("region", lambda t: PhoneReader(t).region, "US")
    return ListOptions(
        phone_column=values.text("phone_column"),
        region=region,
        variables=values.names("variables"),
        timezone_column=values.text("timezone_column"),
        encoding=values.text("encoding"),
        delimiter=values.text("delimiter"),
        phone_columns=values.names("phone_columns"),
    )


def _missing(text: str) -> Missing:
    try:
        return Missing(text.lower())
    except ValueError:
        raise InputError(f'{text!r} is not one of "skip" or "fail".') from None


def _days(text: str) -> int | None:
    """A period in whole days ("7d", "168h"), or None for "off"."""
    if text.lower() == "off":
        return None
    seconds = parse_duration_s(text, name="skip_reached_within")
    if seconds <= 0 or seconds % _DAY_S:
        raise InputError(f'{text!r}: write whole days, like "7d" (or "off").')
    return int(seconds // _DAY_S)


def _rules(values: _Values) -> CallingRules | None:
    text = values.text("rules")  # relative to the campaign file, like every path in it
    if text is None:
        return None
    try:
        return read_rules(values.path.parent / text, option="rules")
    except InputError as exc:
        raise values.fail("rules", str(exc)) from None
