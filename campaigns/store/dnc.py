"""The do-not-call list: numbers nobody may call, kept in the store and shared by every
campaign, run and worker of it (`dialer dnc ...`).

It is checked at dial time, inside the same atomic step that begins a dial (beside the recall
guard, campaigns.store.history), so a number added mid-run is never called after the add returns:
its row ends `suppressed`, "on the do-not-call list since 2026-12-01 15:20 UTC (opted out)".
The list is the store's, not an account's: a person who opted out did so whatever the key.
"""

from __future__ import annotations

from dataclasses import dataclass

from dialer.durations import utc_text

MAX_REASON_CHARS = 200


@dataclass(frozen=True)
class DncEntry:
    number: str  # E.164
    reason: str
    added_at: float  # epoch s

    @property
    def message(self) -> str:
        """The report's `error` for a row this entry stopped (stored with the entry, so both
        stores say it the same way)."""
        since = utc_text(self.added_at)
        reason = f" ({self.reason})" if self.reason else ""
        return f"on the do-not-call list since {since}{reason}"


def clean_reason(text: str | None) -> str:
    """One line, bounded: it ends up in reports and on pages."""
    return " ".join((text or "").split())[:MAX_REASON_CHARS]
