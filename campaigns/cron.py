"""When a scheduled campaign runs: a cron expression read as wall-clock time in the campaign's
own zone, one run per local date, correct across daylight saving changes.

croniter parses the expression; the times are computed here from local dates, because
croniter's own iteration over aware datetimes mishandles DST edges:
- a time that does not exist that day (02:30 on a spring-forward night) runs once, at the next
  valid minute (the moment the clocks jump);
- a time that exists twice (01:30 on a fall-back night) runs once, at its first occurrence;
- several matching times on one day: the day's run starts at the first (runs are keyed by the
  campaign and the local date).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from dialer.errors import InputError

MAX_DAYS_AHEAD = 4 * 366  # an expression that matches no day in four years matches none


@dataclass(frozen=True)
class Run:
    """One day's run: its local date and the instant it starts."""

    local_date: date
    starts_at: datetime  # aware, UTC


@dataclass(frozen=True)
class CronSchedule:
    expression: str
    zone: ZoneInfo
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int] | None  # None: any day of the month
    months: frozenset[int] | None
    weekdays: frozenset[int] | None  # cron's numbering: 0 = Sunday

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
        except (ValueError, KeyError) as exc:
            raise InputError(
                f"{where}: {expression!r} is not a cron expression: write five fields, "
                'minute hour day-of-month month day-of-week, e.g. "0 9 * * MON-FRI".'
            ) from exc
        if len(fields) != 5:
            raise InputError(f"{where}: {expression!r} must have exactly five fields.")

        minutes, hours, days, months, weekdays = fields
        return cls(
            expression=expression,
            zone=zone,
            minutes=tuple(range(60)) if "*" in minutes else tuple(sorted(int(m) for m in minutes)),
            hours=tuple(range(24)) if "*" in hours else tuple(sorted(int(h) for h in hours)),
            days=None if "*" in days else frozenset(int(d) for d in days),
            months=None if "*" in months else frozenset(int(m) for m in months),
            weekdays=None if "*" in weekdays else frozenset(int(w) % 7 for w in weekdays),
        )

    def matches(self, day: date) -> bool:
        if self.months is not None and day.month not in self.months:
            return False
        weekday = day.isoweekday() % 7
        if self.days is not None and self.weekdays is not None:  # cron's rule: either one
            return day.day in self.days or weekday in self.weekdays
        if self.days is not None:
            return day.day in self.days
        return self.weekdays is None or weekday in self.weekdays

    def run_on(self, day: date) -> Run | None:
        """The run of this local date, or None when the expression skips the day."""
        if not self.matches(day):
            return None
        wall = datetime(day.year, day.month, day.day, self.hours[0], self.minutes[0])
        return Run(day, self._instant(wall))

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
        """Runs starting at or after `after` (aware), in order."""
        day = after.astimezone(self.zone).date()
        for offset in range(MAX_DAYS_AHEAD):
            run = self.run_on(day + timedelta(days=offset))
            if run is not None and run.starts_at >= after:
                yield run

    def next_runs(self, after: datetime, count: int) -> list[Run]:
        runs: list[Run] = []
        for run in self.runs_from(after):
            runs.append(run)
            if len(runs) == count:
                break
        return runs

    def local_date(self, at: datetime) -> date:
        return at.astimezone(self.zone).date()
