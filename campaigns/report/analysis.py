"""Outcome analytics: a campaign's outcome table as a pandas DataFrame, and the figures a
campaign manager asks for next (when do people answer, is a second attempt worth it, how does
the answer rate move day by day).

For notebooks, one function: `dialer.notebook.load_outcomes(campaign_id)` returns the table of
a campaign in the store that `dialer` itself uses (DIALER_HOME, or REDIS_URL when set):

    >>> from dialer.notebook import load_outcomes
    >>> from campaigns.report.analysis import answer_rates
    >>> table = load_outcomes("reminders-2026-11-23")
    >>> answer_rates(table, "local_hour")

The table has one row per report row and the columns of `OUTCOME_COLUMNS`:
- `run_date` (a scheduled export's run date, else empty), `to_number`, `status`, `attempts`,
  `duration_s` (talk time of a completed call, NaN otherwise);
- `called_at` (UTC): when the row's last call was made (its POST), or the API's `started_at`
  when the store has no dial time; NaT for a row never called;
- `zone`: the recipient's zone, when the number (or the zone column) gave exactly one;
  `"several"` for a number that may ring in several (mobiles), empty when not called;
- `local_hour` and `weekday` (Monday = 0) of the call in that zone, -1 when unknown;
- `country`: the number's region (ISO 3166 code), empty when it could not be read;
- `called`: the call reached one of the API's final statuses; `answered`: it completed.

Answer rate = answered / called, as in the report's Summary (completed over completed, failed,
no_answer and busy). By attempt number: attempt k was made for every called row with at least
k attempts, and answered for the completed rows with exactly k (a completed row is never
redialled).
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import pandas as pd
import phonenumbers

from campaigns.report.summary import RUN_DATE_COLUMN
from campaigns.store.rows import API_FINAL

if TYPE_CHECKING:
    from campaigns.report.rows import ReportRow

SEVERAL_ZONES = "several"
OUTCOME_COLUMNS: tuple[str, ...] = (
    "run_date",
    "to_number",
    "status",
    "attempts",
    "duration_s",
    "called_at",
    "zone",
    "local_hour",
    "weekday",
    "country",
    "called",
    "answered",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_RATE_COLUMNS = ["calls", "answered", "answer_rate"]


class OutcomeCollector:
    """Keeps the few fields the analysis needs of each report row while the report streams
    the rows by (compact columns: a million rows cost tens of MB, not the rows themselves)."""

    def __init__(self, headers: Iterable[str] = ()) -> None:
        self._has_run_date = next(iter(headers), None) == RUN_DATE_COLUMN
        self._run_dates: list[str] = []
        self._numbers: list[str] = []
        self._statuses: list[str] = []
        self._zones: list[str] = []
        self._attempts = array("l")
        self._durations_s = array("d")
        self._called_at_s = array("d")
        self._started_at: dict[int, str] = {}  # the API's text, for rows with no dial time

    def observe(self, rows: Iterable[ReportRow]) -> Iterator[ReportRow]:
        """Pass `rows` through, unchanged, keeping what the analysis needs of each."""
        for row in rows:
            self.add(row)
            yield row

    def add(self, row: ReportRow) -> None:
        self._run_dates.append(sys.intern(row.cells[0]) if self._has_run_date else "")
        self._numbers.append(row.to_number)
        self._statuses.append(sys.intern(row.status))
        zones = row.zones
        self._zones.append(sys.intern(zones[0] if len(zones) == 1 else SEVERAL_ZONES))
        self._attempts.append(row.attempts)
        self._durations_s.append(_seconds(row.duration) if row.status == "completed" else nan)
        if row.called_at_s > 0:
            self._called_at_s.append(row.called_at_s)
        else:
            if row.started_at:
                self._started_at[len(self._called_at_s)] = row.started_at
            self._called_at_s.append(nan)

    def frame(self) -> pd.DataFrame:
        return outcome_frame_of(self)


def outcome_frame(rows: Iterable[ReportRow], headers: Iterable[str] = ()) -> pd.DataFrame:
    """The outcome table of report rows (see the module's doc); `headers` tell an export."""
    collector = OutcomeCollector(headers)
    for row in rows:
        collector.add(row)
    return collector.frame()


def outcome_frame_of(collector: OutcomeCollector) -> pd.DataFrame:
    c = collector
    frame = pd.DataFrame(
        {
            "run_date": pd.Series(c._run_dates, dtype="string"),
            "to_number": pd.Series(c._numbers, dtype="string"),
            "status": pd.Series(c._statuses, dtype="string"),
            "attempts": pd.Series(c._attempts, dtype="int64"),
            "duration_s": pd.Series(c._durations_s, dtype="float64"),
            "called_at": _called_at(c._called_at_s, c._started_at),
        }
    )
    frame["called"] = frame["status"].isin([str(s) for s in API_FINAL]) & (frame["attempts"] > 0)
    frame["answered"] = frame["status"] == "completed"
    zones = pd.Series(c._zones, dtype="string")
    frame["zone"] = zones.where(frame["called_at"].notna(), "")
    frame["local_hour"], frame["weekday"] = _local_hour_and_weekday(frame)
    frame["country"] = pd.Series(_countries(c._numbers), dtype="string")
    return frame[list(OUTCOME_COLUMNS)]


# --- the figures ---


def answer_rates(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Calls, answered calls and answer rate of the called rows, grouped by column `by`."""
    called = frame[frame["called"]]
    if by in ("local_hour", "weekday"):
        called = called[called[by] >= 0]
    grouped = called.groupby(by, sort=True)["answered"].agg(["count", "sum"])
    grouped.columns = ["calls", "answered"]
    grouped["answered"] = grouped["answered"].astype("int64")
    grouped["answer_rate"] = grouped["answered"] / grouped["calls"]
    return grouped[_RATE_COLUMNS]


def answer_rates_by_weekday(frame: pd.DataFrame) -> pd.DataFrame:
    rates = answer_rates(frame, "weekday")
    rates.index = pd.Index([WEEKDAYS[int(d)] for d in rates.index], name="weekday")
    return rates


def answer_rates_by_attempt(frame: pd.DataFrame) -> pd.DataFrame:
    """Attempt k: made for every called row with >= k attempts, answered when completed at k."""
    called = frame[frame["called"]]
    most = int(called["attempts"].max()) if len(called) else 0
    records = []
    for k in range(1, most + 1):
        calls = int((called["attempts"] >= k).sum())
        answered = int((called["answered"] & (called["attempts"] == k)).sum())
        records.append((k, calls, answered, answered / calls if calls else float("nan")))
    table = pd.DataFrame.from_records(records, columns=["attempt", *_RATE_COLUMNS])
    return table.set_index("attempt")


def rows_by_day_and_status(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows per run date (index) and status (columns), for exports."""
    return pd.crosstab(frame["run_date"], frame["status"]).rename_axis(None, axis=1)


def talk_time_s(frame: pd.DataFrame) -> tuple[float, float | None]:
    """Total talk time and the average per completed call with a duration, in seconds."""
    durations = frame["duration_s"].dropna()
    return float(durations.sum()), (float(durations.mean()) if len(durations) else None)


def hms(seconds: float) -> str:
    """Seconds as h:mm:ss (hours not capped at 24)."""
    whole = round(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


# --- helpers ---

nan = float("nan")


def _seconds(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return nan


def _called_at(epoch_s: array[float], started_at: dict[int, str]) -> pd.Series:
    """Dial times, and the API's `started_at` where there is none (text that is not a time,
    as an API may send, is left out: NaT)."""
    called_at = pd.to_datetime(pd.Series(epoch_s, dtype="float64"), unit="s", utc=True)
    if started_at:
        texts = pd.Series(list(started_at.values()), index=list(started_at.keys()), dtype="string")
        parsed = pd.to_datetime(texts, utc=True, errors="coerce", format="ISO8601")
        called_at.loc[parsed.index] = parsed.astype(called_at.dtype)
    return called_at


def _local_hour_and_weekday(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    hours = pd.Series(-1, index=frame.index, dtype="int64")
    weekdays = pd.Series(-1, index=frame.index, dtype="int64")
    known = frame["called_at"].notna() & ~frame["zone"].isin(["", SEVERAL_ZONES])
    for zone, index in frame[known].groupby("zone").groups.items():
        local = frame.loc[index, "called_at"].dt.tz_convert(str(zone))
        hours.loc[index] = local.dt.hour.astype("int64")
        weekdays.loc[index] = local.dt.day_of_week.astype("int64")
    return hours, weekdays


def _countries(numbers: list[str]) -> list[str]:
    """Each number's region. Numbers of one country and area share it: one read per prefix."""
    by_prefix: dict[str, str] = {}
    regions = []
    for e164 in numbers:
        prefix = e164[:8]
        if prefix not in by_prefix:
            by_prefix[prefix] = _region(e164)
        regions.append(by_prefix[prefix])
    return regions


def _region(e164: str) -> str:
    if not e164:
        return ""
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return ""
    return str(region or "")
