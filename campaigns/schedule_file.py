"""Campaign files: scheduled campaigns written in TOML, read and checked in one place.

A campaign file names one or more campaigns that run by themselves (`dialer beat FILE`) or from
cron (`dialer run-scheduled FILE NAME`). Each run is one local date's: its campaign id is
`{name}-{YYYY-MM-DD}`, so the store itself refuses a second run of a day.

    # File level: counted across every campaign of this file.
    max_attempts_per_number_per_day = 2

    [defaults]                      # any campaign key; a campaign's own value wins
    agent = "agent_abc123"
    timezone = "America/New_York"
    window = "09:00-20:00"
    skip_reached_within = "7d"

    [campaigns.reminders]
    schedule = "0 9 * * MON-FRI"
    contacts = "data/reminders-{date}.csv"
    report = "reports/{name}/{date}.xlsx"
    redial = { busy = 2, no_answer = 1 }

    [campaigns.surveys]
    schedule = "30 14 * * SAT"
    timezone = "Europe/London"
    contacts = "data/surveys.csv"
    missing = "fail"

Campaign keys (in `[campaigns.NAME]` or `[defaults]`):
- `schedule` (required): cron, five fields, read as wall-clock time in `timezone`.
- `timezone` (required): the campaign's IANA zone: when it runs, and what "today" is.
- `agent` (required): the Voxpria agent.
- `contacts` (required): the list's path; may hold `{date}` (the run's local date, YYYY-MM-DD)
  and `{name}` (the campaign's).
- `missing`: when the day's list is not there, `"skip"` the day and say so (the default) or
  `"fail"` (exit 2).
- `report`: the report's path, `.csv` or `.xlsx`, `{date}` and `{name}` allowed; default
  `"reports/{name}/{date}.csv"`.
- `skip_reached_within`: `"7d"` skips a number that a run of any campaign of the file reached
  (status completed) on one of the last 7 local dates, today included; default `"off"`.
- `recall_after`: as `dialer run --recall-after`: a number a campaign outside this file called
  more recently is not called (the file's own runs never block each other: its other keys say
  how often a number may be called); `"0"` turns it off. `in_doubt`: as `--in-doubt`.
  `max_calls`: as `--max-calls` (N calls to one number in D days, across every campaign).
  `min_balance`: as `--min-balance` (no new call under this credit balance), e.g. `"5"`.
  `rules`: as `--rules`, a calling-rules file's path (read when the campaign file is read).
- `rate`, `max_active`, `window`, `redial`, `redial_after`, `suppress`, `phone_column`,
  `region`, `variables`, `timezone_column`, `webhooks`, `encoding`, `delimiter`,
  `phone_columns`: as `dialer run`'s options, with its defaults; `redial` as text or a table,
  `variables` and `phone_columns` as a list or text, `suppress` a path like `contacts`,
  `webhooks` true or false.

Relative paths are relative to the campaign file's folder. A campaign's name is letters,
digits, `.`, `_` and `-` (up to 89: the id adds 11). Every mistake, an unknown key included, is
an InputError naming the file, the campaign (or `[defaults]`) and the key.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from campaigns.contacts import ListOptions
from campaigns.cron import CronSchedule
from campaigns.dial_options import (
    DEFAULT_IN_DOUBT,
    DEFAULT_MAX_ACTIVE,
    DEFAULT_REDIAL_AFTER,
    DEFAULT_WINDOW,
    KEY_NAMES,
    DialOptions,
    OptionError,
)
from campaigns.phones import PhoneReader
from campaigns.policy import DialPolicy
from campaigns.report_file import REPORT_EXTENSIONS
from campaigns.rules import CallingRules
from campaigns.rules_file import read_rules
from dialer.durations import parse_duration_s
from dialer.errors import InputError

DEFAULT_REPORT = "reports/{name}/{date}.csv"
PLACEHOLDERS = frozenset({"date", "name"})
REQUIRED_KEYS = ("schedule", "timezone", "agent", "contacts")
# An example value of each key, shown when a value is not of the right kind.
EXAMPLES: Mapping[str, str] = {
    "schedule": '"0 9 * * MON-FRI"',
    "timezone": '"America/New_York"',
    "agent": '"agent_abc123"',
    "contacts": '"data/reminders-{date}.csv"',
    "missing": '"skip" or "fail"',
    "report": '"reports/{name}/{date}.xlsx"',
    "skip_reached_within": '"7d" or "off"',
    "rate": '"30/min"',
    "max_active": "10",
    "window": '"09:00-20:00" or "any"',
    "redial": '"busy=2,no_answer=1" or { busy = 2, no_answer = 1 }',
    "redial_after": '"30m"',
    "suppress": '"do-not-call.csv"',
    "phone_column": '"Mobile"',
    "region": '"US"',
    "variables": '["FirstName", "Balance"]',
    "timezone_column": '"TimeZone"',
    "encoding": '"cp1251"',
    "delimiter": '";"',
    "phone_columns": '["Mobile", "Phone"]',
    "webhooks": "true",
    "recall_after": '"20h" or "0"',
    "in_doubt": '"verify" or "unknown"',
    "max_calls": '"7/7d"',
    "min_balance": '"5"',
    "rules": '"calling-rules.toml"',
}
CAMPAIGN_KEYS = frozenset(EXAMPLES)
FILE_KEYS = frozenset({"max_attempts_per_number_per_day", "defaults", "campaigns"})
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,88}")
_DAY_S = 86_400
T = TypeVar("T")


class Missing(StrEnum):
    SKIP = "skip"
    FAIL = "fail"


def run_id(name: str, day: date) -> str:
    """The campaign id of `name`'s run on local date `day`: the run's key in the store."""
    return f"{name}-{day.isoformat()}"


@dataclass(frozen=True)
class PathTemplate:
    """A path that may carry the run's `{date}` and the campaign's `{name}`."""

    text: str
    base: Path  # the campaign file's folder: relative paths start there

    def render(self, name: str, day: date) -> Path:
        path = Path(self.text.format(name=name, date=day.isoformat())).expanduser()
        return path if path.is_absolute() else self.base / path


@dataclass(frozen=True)
class ScheduledCampaign:
    name: str
    schedule: CronSchedule
    policy: DialPolicy  # polling comes from the settings at run time
    list_options: ListOptions  # without `suppress`: that is a template, below
    contacts: PathTemplate
    report: PathTemplate
    suppress: PathTemplate | None
    missing: Missing
    skip_reached_within_days: int | None
    webhooks: bool = False  # outcomes arrive by webhook: poll a call only once it is overdue

    @property
    def zone_name(self) -> str:
        return self.schedule.zone.key

    def run_id(self, day: date) -> str:
        return run_id(self.name, day)

    def contacts_path(self, day: date) -> Path:
        return self.contacts.render(self.name, day)

    def report_path(self, day: date) -> Path:
        return self.report.render(self.name, day)

    def list_options_on(self, day: date) -> ListOptions:
        suppress = self.suppress.render(self.name, day) if self.suppress else None
        return replace(self.list_options, suppress=suppress)

    @property
    def max_attempts_per_run(self) -> int:
        """The most calls one run may make to a number: the first and its redials."""
        return 1 + max(self.policy.redial.values(), default=0)


@dataclass(frozen=True)
class ScheduleFile:
    path: Path
    campaigns: tuple[ScheduledCampaign, ...]
    max_attempts_per_number_per_day: int | None

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.campaigns]

    def campaign(self, name: str) -> ScheduledCampaign:
        for campaign in self.campaigns:
            if campaign.name == name:
                return campaign
        raise InputError(
            f"{self.path} has no campaign {name!r}: its campaigns are "
            f"{', '.join(self.names)} (the NAME of each [campaigns.NAME] table)."
        )


def load_schedule_file(path: Path) -> ScheduleFile:
    data = _read_toml(path)
    unknown = sorted(set(data) - FILE_KEYS)
    if unknown:
        raise InputError(
            f"{path}: key {unknown[0]!r} is not a campaign file key: the top of the file holds "
            "max_attempts_per_number_per_day, [defaults] and [campaigns.NAME] tables."
        )
    defaults = _table(path, data, "defaults", "[defaults]")
    _check_keys(path, "[defaults]", defaults)
    tables = _table(path, data, "campaigns", "[campaigns]")
    if not tables:
        raise InputError(
            f"{path} names no campaign: add a [campaigns.NAME] table with schedule, timezone, "
            "agent and contacts."
        )
    cap = _daily_cap(path, data.get("max_attempts_per_number_per_day"))
    campaigns = tuple(
        _campaign(_Values(path, name, _campaign_table(path, name, own), defaults))
        for name, own in tables.items()
    )
    for campaign in campaigns:
        _check_cap(path, campaign, cap)
    return ScheduleFile(path, campaigns, cap)


def _read_toml(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except FileNotFoundError:
        raise InputError(f"campaign file {path} does not exist: check the path.") from None
    except OSError as exc:
        raise InputError(f"campaign file {path} cannot be read: {exc.strerror}.") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(
            f"campaign file {path} is not valid TOML ({exc}): fix the line it names."
        ) from None


def _table(path: Path, data: Mapping[str, object], key: str, label: str) -> dict[str, object]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise InputError(f"{path}: {label} must be a table: write it as a {label} header line.")
    return value


def _campaign_table(path: Path, name: str, own: object) -> dict[str, object]:
    if not _NAME_RE.fullmatch(name):
        raise InputError(
            f"{path}: campaign {name!r}: a name is letters, digits, '.', '_' and '-' (up to 89, "
            "starting with a letter or digit): rename the [campaigns.NAME] table."
        )
    if not isinstance(own, dict):
        raise InputError(
            f"{path}: campaign {name!r} must be a table: write its keys under [campaigns.{name}]."
        )
    _check_keys(path, f"campaign {name!r}", own)
    return own


def _check_keys(path: Path, label: str, table: Mapping[str, object]) -> None:
    for key in table:
        if key in CAMPAIGN_KEYS:
            continue
        if key in FILE_KEYS:
            hint = "it belongs at the top of the file, before any [table]"
        else:
            hint = f"use one of {', '.join(sorted(CAMPAIGN_KEYS))}"
        raise InputError(f"{path}: {label}, key {key!r} is not a campaign key: {hint}.")


def _daily_cap(path: Path, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(
            f"{path}: key 'max_attempts_per_number_per_day' must be a whole number of at least "
            f"1, like 2 (it is {value!r})."
        )
    return value


def _check_cap(path: Path, campaign: ScheduledCampaign, cap: int | None) -> None:
    """A run's own redials happen inside the run, where the cap is not looked at again: a
    campaign whose one run could go over the cap by itself is refused."""
    if cap is not None and campaign.max_attempts_per_run > cap:
        raise InputError(
            f"{path}: campaign {campaign.name!r}, key 'redial': one run may call a number "
            f"{campaign.max_attempts_per_run} times, more than max_attempts_per_number_per_day "
            f"= {cap}: lower redial or raise the cap."
        )


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


def _rules(values: _Values) -> CallingRules | None:
    text = values.text("rules")  # relative to the campaign file, like every path in it
    if text is None:
        return None
    try:
        return read_rules(values.path.parent / text, option="rules")
    except InputError as exc:
        raise values.fail("rules", str(exc)) from None


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
