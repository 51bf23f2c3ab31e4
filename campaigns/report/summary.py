"""The numbers a report ends with: rows by status, answer rate, talk time.

Kept apart from the file formats so the CLI's end-of-run table and the XLSX `Summary` sheet
count the same way.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import compress

from campaigns.store.rows import API_FINAL

# The contract's report statuses, in the contract's order: a summary lists every one of them,
# zero included, so two reports line up. Mid-run statuses (pending, dialing, ringing...) follow.
REPORT_STATUSES: tuple[str, ...] = (
    "completed",
    "failed",
    "no_answer",
    "busy",
    "invalid",
    "duplicate",
    "suppressed",
    "rejected",
    "unknown",
    "not_called",
    "ready",
)

_COMPLETED = "completed"

# An export's first column: the local date of the run a row came from.
RUN_DATE_COLUMN = "run_date"


@dataclass
class SummaryCounter:
    """Accumulates a report's numbers one row at a time (cheap: called once per row)."""

    by_status: dict[str, int] = field(default_factory=dict)
    talk_time_s: float = 0.0
    timed_calls: int = 0  # completed calls whose duration could be read

    def add(self, status: str, duration: str) -> None:
        self.by_status[status] = self.by_status.get(status, 0) + 1
        if status == "completed" and duration:
            try:
                seconds = float(duration)
            except ValueError:
                return  # the API sent something that is not a number: leave it out of the sums
            self.talk_time_s += seconds
            self.timed_calls += 1

    def add_batch(self, statuses: list[str], durations: Iterable[str]) -> None:
        """`add(status, duration)` for each pair, at once (a million rows, in C mostly)."""
        for status, count in Counter(statuses).items():
            self.by_status[status] = self.by_status.get(status, 0) + count
        timed = [d for d in compress(durations, map(_COMPLETED.__eq__, statuses)) if d]
        try:
            self.talk_time_s += sum(map(float, timed))
            self.timed_calls += len(timed)
        except ValueError:  # some duration is not a number: count the others, one by one
            for duration in timed:
                with contextlib.suppress(ValueError):
                    self.talk_time_s += float(duration)
                    self.timed_calls += 1

    def counts(self) -> dict[str, int]:
        """Every contract status (zero included) in contract order, then any other seen."""
        ordered = {status: self.by_status.get(status, 0) for status in REPORT_STATUSES}
        for status, count in self.by_status.items():
            ordered.setdefault(status, count)
        return ordered

    @property
    def total_rows(self) -> int:
        return sum(self.by_status.values())

    @property
    def answer_rate(self) -> float | None:
        """completed / calls that reached a final API status; None when no call did."""
        reached = sum(self.by_status.get(status, 0) for status in API_FINAL)
        if reached == 0:
            return None
        return self.by_status.get("completed", 0) / reached

    @property
    def average_talk_time_s(self) -> float | None:
        if self.timed_calls == 0:
            return None
        return self.talk_time_s / self.timed_calls
