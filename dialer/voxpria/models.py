"""What the Voxpria API says about calls, as typed values (no HTTP here: see `client`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from dialer.settings import Secret


class CallStatus(StrEnum):
    QUEUED = "queued"
    RINGING = "ringing"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    NO_ANSWER = "no_answer"
    BUSY = "busy"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES

    @classmethod
    def parse(cls, text: object) -> CallStatus | None:
        """Tolerant: `no-answer`, `NO_ANSWER`, `in progress` all read; unknown text is None."""
        if not isinstance(text, str):
            return None
        key = text.strip().lower().replace("-", "_").replace(" ", "_")
        try:
            return cls(key)
        except ValueError:
            return None


FINAL_STATUSES = frozenset(
    {CallStatus.COMPLETED, CallStatus.FAILED, CallStatus.NO_ANSWER, CallStatus.BUSY}
)


@dataclass(frozen=True)
class Call:
    """A call as the API describes it; fields the API left out are None."""

    call_id: str
    status: CallStatus | None
    to_number: str | None = None
    agent_id: str | None = None
    created_at: str | None = None  # ISO-8601 UTC as the API wrote it
    duration_s: float | None = None
    outcome: str | None = None
    recording: str | None = None
    transcript: str | None = None
    started_at: str | None = None
    completed_at: str | None = None

    @property
    def is_final(self) -> bool:
        return self.status is not None and self.status.is_final


@dataclass(frozen=True)
class Agent:
    agent_id: str
    name: str | None
    status: str | None

    @property
    def is_active(self) -> bool:
        return (self.status or "active").lower() == "active"


@dataclass(frozen=True)
class Credits:
    balance: float | None
    currency: str | None


@dataclass(frozen=True)
class Webhook:
    """A webhook subscription. `secret` signs its deliveries; the API returns it only when the
    subscription is created, and it never shows in repr() or messages."""

    webhook_id: str
    url: str | None
    events: tuple[str, ...]
    active: bool | None  # None: the API did not say
    secret: Secret | None = field(default=None, repr=False)


# --- the five ways a POST /calls can end (401 raises AuthError instead) ---


@dataclass(frozen=True)
class Created:
    """2xx with a callId: the call exists."""

    call: Call


@dataclass(frozen=True)
class Rejected:
    """A 4xx other than 401/429: the API refused; no call exists. `message` is the API's."""

    status_code: int
    message: str


@dataclass(frozen=True)
class NotSent:
    """The request never left (connect error, connect or pool timeout): safe to retry."""

    reason: str


@dataclass(frozen=True)
class Throttled:
    """429: not created. Retry no sooner than `retry_at` (epoch seconds)."""

    retry_at: float
    reason: str


@dataclass(frozen=True)
class Ambiguous:
    """The request may have reached the API (read timeout, 5xx, broken connection, a 2xx
    without a callId): a call may exist. Reconcile through the call list; never re-POST blindly."""

    reason: str


PostOutcome = Created | Rejected | NotSent | Throttled | Ambiguous
