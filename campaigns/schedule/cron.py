"""When a scheduled campaign runs: a cron expression read as wall-clock time in the campaign's
own zone, one run per local date, correct across daylight saving changes.

croniter parses the expression and iterates it over naive wall-clock times, so every form it
knows (`#`, `L`, `W`, ranges, steps, names, `@daily`) means what croniter says. Only the step
from a wall-clock time to an instant is done here, because croniter's own iteration over aware
datetimes mishandles DST edges:
- a time that does not exist that day (02:30 on a spring-forward night) runs once, at the next
  valid minute (the moment the clocks jump);
- a time that exists twice (01:30 on a fall-back night) runs once, at its first occurrence;
- several matching times on one day: the day's run starts at the first (runs are keyed by the
  campaign and the local date).
An expression croniter refuses, one with other than five fields (seconds, years), or one that
matches no date in `MAX_YEARS_BETWEEN_RUNS` years is an InputError naming where it was written.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter

from dialer.errors import InputError

MAX_YEARS_BETWEEN_RUNS = 5  # "0 9 29 2 *" runs every 4 years; "0 9 30 2 *" never does
_FIVE_FIELDS = (
    'write five fields, minute hour day-of-month month day-of-week, e.g. "0 9 * * MON-FRI"'
)


@dataclass(frozen=True)
class Run:
    """One day's run: its local date and the instant it starts."""

    local_date: date
    starts_at: datetime  # aware, UTC


@dataclass(frozen=True)
class CronSchedule:
    expression: str
    zone: ZoneInfo

    @classmethod
    def parse(cls, expression: str, zone_name: str, *, where: str = "schedule") -> CronSchedule:
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InputError(
                f"{where}: unknown time zone {zone_name!r}: use an IANA name like "
                "America/New_York or Europe/London."
            ) from exc
        try:
            fields, _ = croniter.expand(expression)
        except (CroniterError, ValueError, KeyError, IndexError) as exc:
            raise InputError(
                f"{where}: {expression!r} is not a cron expression croniter accepts ({exc}): "
                f"{_FIVE_FIELDS}."
            ) from None
        if len(fields) != 5:
            raise InputError(
                f"{where}: {expression!r} has {len(fields)} fields, and seconds or years are not "
                f"supported: {_FIVE_FIELDS}."
            )
        schedule = cls(expression=expression, zone=zone)
        try:
            schedule._next_wall(datetime(2000, 1, 1))
        except (CroniterError, ValueError, KeyError, IndexError) as exc:
            raise InputError(
                f"{where}: {expression!r} matches no date in {MAX_YEARS_BETWEEN_RUNS} years "
                f"({exc}): check the day of month and month fields."
            ) from None
        return schedule

    def _next_wall(self, after: datetime) -> datetime:
        """The first wall-clock time strictly after `after` (naive) that the expression matches."""
        it = croniter(self.expression, after, max_years_between_matches=MAX_YEARS_BETWEEN_RUNS)
        found: datetime = it.get_next(datetime)
        return found

    def first_wall_time(self, day: date) -> datetime | None:
        """The day's first matching wall-clock time (naive), or None when it skips the day."""
        try:
            wall = self._next_wall(datetime.combine(day, time(0)) - timedelta(minutes=1))
        except CroniterError:
            return None
        return wall if wall.date() == day else None

    def matches(self, day: date) -> bool:
        return self.first_wall_time(day) is not None

    def run_on(self, day: date) -> Run | None:
        """The run of this local date, or None when the expression skips the day."""
        wall = self.first_wall_time(day)
        return None if wall is None else Run(day, self._instant(wall))

    def _instant(self, wall: datetime) -> datetime:
        """The first instant the zone's clocks show `wall`, or the moment they jump past it."""
        aware = wall.replace(tzinfo=self.zone, fold=0)
        utc = aware.astimezone(UTC)
        if utc.astimezone(self.zone).replace(tzinfo=None) == wall:
            return utc
        # `wall` does not exist today: the clocks jumped over it; run at the next valid minute.
        probe = wall
        while True:
            probe += timedelta(minutes=1)
            shifted = probe.replace(tzinfo=self.zone).astimezone(UTC)
            if shifted.astimezone(self.zone).replace(tzinfo=None) == probe:
                return shifted

    def runs_from(self, after: datetime) -> Iterator[Run]:
        """Runs starting at or after `after` (aware), in order: croniter walks the wall clock,
        the first match of each local date is that date's run."""
        day = after.astimezone(self.zone).date()
        cursor = datetime.combine(day, time(0)) - timedelta(minutes=1)
        while True:
            try:
                wall = self._next_wall(cursor)
            except CroniterError:
                return  # no match in MAX_YEARS_BETWEEN_RUNS years from here
            run = Run(wall.date(), self._instant(wall))
            if run.starts_at >= after:
                yield run
            # The next date's first match, whatever else matches later today.
            cursor = datetime.combine(wall.date() + timedelta(days=1), time(0)) - timedelta(
                minutes=1
            )

    def next_runs(self, after: datetime, count: int) -> list[Run]:
        runs: list[Run] = []
        for run in self.runs_from(after):
            if len(runs) == count:
                break
            runs.append(run)
        return runs

    def local_date(self, at: datetime) -> date:
        return at.astimezone(self.zone).date()
