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
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from campaigns.schedule.campaign_keys import _campaign, _Values
from campaigns.schedule.scheduled_campaign import (
    CAMPAIGN_KEYS,
    ScheduledCampaign,
)
from dialer.errors import InputError

FILE_KEYS = frozenset({"max_attempts_per_number_per_day", "defaults", "campaigns"})
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,88}")


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
