"""One campaign of a schedule file: its keys (with an example each), its paths, its run id."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from pathlib import Path

from campaigns.dialing.policy import DialPolicy
from campaigns.lists.contacts import ListOptions
from campaigns.schedule.cron import CronSchedule

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
