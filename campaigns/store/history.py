"""The contact history: every call made to a number, per account, across campaigns.

Both stores keep it beside the rows and consult it in the same atomic step that begins a dial
(`RowStore.begin_dial` / `RowStore.recall_check`): a number that another campaign called within
the recall guard is not dialled again; its row ends `suppressed` with who called it and when.

Calls of the same *group* never block each other: a campaign's own redials (group = campaign
id), and the daily runs of one campaign file (group = the file), which have their own keys for
how often a number may be called.

An entry's status follows its call: `dialing` (intent written) -> `active` -> the final status;
`not_created` when the POST provably created nothing (never sent, or verified absent from the
call list), `rejected` when the API refused it. Those two never count as a call.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from dialer.durations import age_text

# Long enough that re-saving, renaming, fixing or re-uploading a list the same day (a calling
# day is at most ~13 h of a 08:00-21:00 window, plus time to notice) calls nobody twice; short
# enough that a list run again the next day is called. Daily runs of a campaign file are one
# group and are governed by the file's own keys.
DEFAULT_RECALL_AFTER_S = 20 * 3600.0
HISTORY_TTL_S = 400 * 86400  # a year and a bit: room for frequency caps over weeks
NOT_A_CALL = ("not_created", "rejected")


@dataclass(frozen=True)
class DialGuard:
    """What the atomic dial step checks and records, beside the row's own state."""

    recall_after_s: float  # 0: the guard is off (the call is still recorded)
    group: str  # calls of the same group never block each other
    agent_id: str
    cap: CallCap | None = None  # at most N calls to one number in a rolling window, any campaign


CAP_WAIT_S = 600.0  # a capped row waits this long at most for its cap to free; else suppressed


@dataclass(frozen=True)
class CallCap:
    """`--max-calls 7/7d`: at most `calls` calls to one number in any `window_s`."""

    calls: int
    window_s: float
    text: str  # as the user wrote it

    @property
    def message(self) -> str:
        period = self.text.split("/")[1]
        return f"already called {self.calls} times within {period} (--max-calls {self.text})"

    @classmethod
    def parse(cls, text: str, *, name: str = "--max-calls") -> CallCap:
        from dialer.durations import parse_duration_s
        from dialer.errors import InputError

        count, _, window = text.strip().partition("/")
        if not count.strip().isdigit() or int(count) < 1 or not window.strip():
            raise InputError(f"{name} {text!r}: write it as N/Dd, like 7/7d (N calls in D days).")
        window_s = parse_duration_s(window, name=name)
        if window_s <= 0:
            raise InputError(f"{name} {text!r}: the period must be longer than 0, like 7/7d.")
        return cls(int(count), window_s, f"{int(count)}/{window.strip()}")


@dataclass(frozen=True)
class HistoryEntry:
    number: str
    at: float  # epoch s: the intent of the call
    campaign: str
    group: str
    agent_id: str
    status: str
    call_id: str = ""

    @property
    def is_call(self) -> bool:
        return self.status not in NOT_A_CALL


def recall_error(age_s: float, campaign: str) -> str:
    return f"called {age_text(age_s)} ago by campaign {campaign}"


class HistoryReader(Protocol):
    def recent_calls(self, numbers: list[str], since: float) -> list[HistoryEntry]:
        """Calls (not `not_created`/`rejected`) to these numbers made at or after `since`."""


@dataclass
class RecentSummary:
    """For a plan: how many numbers of a list were called recently, and by which campaigns."""

    recall_after_s: float
    numbers: int = 0
    by_campaign: Counter[str] | None = None

    def text(self) -> str:
        if self.recall_after_s <= 0:
            return "Recall guard off (--recall-after 0): numbers called lately are called again."
        hours = f"{self.recall_after_s / 3600:g} h"
        if not self.numbers or not self.by_campaign:
            return f"No number of this list was called in the last {hours} (recall guard)."
        who = ", ".join(f"{c} ({n:,})" for c, n in self.by_campaign.most_common(5))
        more = len(self.by_campaign) - 5
        if more > 0:
            who += f" and {more} more"
        return (
            f"{self.numbers:,} numbers were called in the last {hours}, by campaign {who}: they "
            "will not be called again (suppressed, --recall-after changes it)."
        )


def summarize_recent(
    numbers: Iterable[str],
    history: HistoryReader,
    now: float,
    recall_after_s: float,
    exclude_campaign: str = "",
    batch: int = 500,
) -> RecentSummary:
    """Look the numbers up in batches (bounded memory whatever the list's size)."""
    summary = RecentSummary(recall_after_s, 0, Counter())
    if recall_after_s <= 0:
        return summary
    assert summary.by_campaign is not None
    for chunk in _chunks(numbers, batch):
        latest: dict[str, HistoryEntry] = {}
        for e in history.recent_calls(chunk, now - recall_after_s):
            if e.campaign != exclude_campaign and (
                e.number not in latest or e.at > latest[e.number].at
            ):
                latest[e.number] = e
        summary.numbers += len(latest)
        summary.by_campaign.update(e.campaign for e in latest.values())
    return summary


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
