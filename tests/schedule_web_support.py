"""Helpers of the Schedules page tests (no tests here): a campaign file, two past runs stored as
the dialer leaves them, and today's list ready to start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from campaigns.store.rows import RowStore
from tests.test_schedule_support import Outcome, campaign_file, stored_run, us_numbers, write_list

ZONE = "America/New_York"
FIRST_DAY = ("completed", "completed", "busy")  # the statuses of the two stored runs' rows
SECOND_DAY = ("no_answer", "completed")
SCHEDULE = """
[campaigns.reminders]
agent = "agent_demo"
timezone = "America/New_York"
schedule = "30 8 * * *"
window = "any"
contacts = "lists/reminders-{date}.csv"

[campaigns.surveys]
agent = "agent_demo"
timezone = "Europe/London"
schedule = "0 9 * * MON#1"
window = "09:00-17:00"
contacts = "lists/surveys-{date}.csv"
"""


@dataclass(frozen=True)
class Scheduled:
    file: Path
    today: date
    past_days: tuple[date, date]  # the two stored runs, oldest first
    past_ids: tuple[str, str]


def today_in(zone: str) -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(zone)).date()


def schedule_folder(folder: Path) -> Scheduled:
    """A campaign file in `folder` (whose name may hold markup), and today's reminders list."""
    folder.mkdir(parents=True, exist_ok=True)
    file = campaign_file(folder, SCHEDULE)
    today = today_in(ZONE)
    write_list(folder / "lists" / f"reminders-{today.isoformat()}.csv", us_numbers(3, 100))
    days = (today - timedelta(days=2), today - timedelta(days=1))
    return Scheduled(file, today, days, (f"reminders-{days[0]}", f"reminders-{days[1]}"))


def store_past_runs(store: RowStore, scheduled: Scheduled) -> None:
    """Two days of reminders, their rows ending as FIRST_DAY and SECOND_DAY say."""
    first, second = scheduled.past_days
    stored_run(
        store,
        "reminders",
        first,
        [Outcome(n, s) for n, s in zip(us_numbers(3), FIRST_DAY, strict=True)],
    )
    stored_run(
        store,
        "reminders",
        second,
        [Outcome(n, s) for n, s in zip(us_numbers(2, 50), SECOND_DAY, strict=True)],
    )
