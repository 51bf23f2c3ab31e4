"""What earlier runs of a campaign file tell the run about to start: which numbers were reached
lately, and how often each was called today, across every campaign of the file.

Nothing is kept beside the store: the memory is read from it (the source of truth) each time a
run starts, from the runs' ids `{name}-{YYYY-MM-DD}`, so it can never disagree with the reports.
A run on local date D of a campaign with `skip_reached_within = "Nd"` skips a number that a row
of any of the file's runs dated D-N+1 .. D ended `completed` on ("reached on 2026-11-26 by
reminders"). With `max_attempts_per_number_per_day`, it skips a number whose calls in the file's
runs dated D, plus the calls this run may make to it (its redials), would pass the cap ("already
called 2 times today"). Each campaign's dates are its own local dates.

The memory is what the store holds when the run starts: two campaigns of a file running at the
same moment do not see each other's calls until a later run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from campaigns.schedule.scheduled_campaign import run_id
from campaigns.store.rows import NewRow, RowStatus, RowStore


@dataclass(frozen=True)
class Reach:
    """A number's latest completed call: the run's local date and campaign."""

    day: date
    campaign: str


@dataclass(frozen=True)
class Recall:
    """What to remember for one run: the file's campaigns and the run's own rules."""

    names: Sequence[str]  # every campaign of the file
    day: date  # the run's local date
    own_id: str  # the run being started: not part of its own memory
    reached_within_days: int | None = None
    max_calls_per_day: int | None = None
    calls_per_run: int = 1  # the most calls the run may make to a number (1 + redials)


@dataclass(frozen=True)
class Memory:
    recall: Recall
    reached: Mapping[str, Reach] = field(default_factory=dict)
    calls_today: Mapping[str, int] = field(default_factory=dict)

    def skip_reason(self, number: str) -> str | None:
        """Why this run must not call `number`, in words for the report; None: call it."""
        reach = self.reached.get(number)
        if reach is not None:
            return f"reached on {reach.day.isoformat()} by {reach.campaign}"
        cap = self.recall.max_calls_per_day
        calls = self.calls_today.get(number, 0)
        if cap is None or calls + self.recall.calls_per_run <= cap:
            return None
        said = f"already called {calls} time{'' if calls == 1 else 's'} today"
        if calls >= cap:
            return said
        return f"{said}: this run's redials could pass max_attempts_per_number_per_day = {cap}"


def remember(store: RowStore, recall: Recall) -> Memory:
    reached: dict[str, Reach] = {}
    calls: Counter[str] = Counter()
    days = recall.reached_within_days or (1 if recall.max_calls_per_day else 0)
    for offset in range(days):  # newest first: a number keeps its latest reach
        day = recall.day - timedelta(days=offset)
        for name in recall.names:
            cid = run_id(name, day)
            if cid == recall.own_id or store.get_campaign(cid) is None:
                continue
            for row in store.iter_rows(cid):
                if not row.to_number:
                    continue
                if offset == 0:
                    calls[row.to_number] += row.attempts
                if recall.reached_within_days and row.status is RowStatus.COMPLETED:
                    reached.setdefault(row.to_number, Reach(day, name))
    return Memory(recall, reached, dict(calls))


def apply_memory(rows: Iterable[NewRow], memory: Memory) -> Iterator[NewRow]:
    """The list's rows, those the memory skips `suppressed` with the reason as their error."""
    for row in rows:
        reason = memory.skip_reason(row.to_number) if row.status is RowStatus.PENDING else None
        yield replace(row, status=RowStatus.SUPPRESSED, error=reason) if reason else row
