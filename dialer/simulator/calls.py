"""A simulated call's life: queued -> ringing -> (in_progress ->) its final status.

A call's fate (final status, talk time) is drawn when it is created; its status at any moment
is computed from the clock on read, so nothing runs in the background.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dialer.voxpria.models import CallStatus


@dataclass(frozen=True)
class Timeline:
    """How long each phase lasts, in simulated seconds, and how fast simulated time runs."""

    speed: float  # simulated seconds per real second
    queue_s: float
    ring_s: float

    def real_s(self, simulated_s: float) -> float:
        return simulated_s / self.speed


@dataclass(frozen=True)
class SimCall:
    call_id: str
    to_number: str
    agent_id: str
    variables: Mapping[str, str]
    created_s: float  # epoch seconds, real
    final_status: CallStatus
    talk_s: float  # simulated seconds of conversation; 0 unless completed
    timeline: Timeline = field(repr=False)

    @property
    def answered(self) -> bool:
        return self.final_status is CallStatus.COMPLETED

    @property
    def ringing_s(self) -> float:
        return self.created_s + self.timeline.real_s(self.timeline.queue_s)

    @property
    def answered_s(self) -> float:
        return self.ringing_s + self.timeline.real_s(self.timeline.ring_s)

    @property
    def ended_s(self) -> float:
        return self.answered_s + self.timeline.real_s(self.talk_s)

    def status_at(self, now: float) -> CallStatus:
        if now < self.ringing_s:
            return CallStatus.QUEUED
        if now < self.answered_s:
            return CallStatus.RINGING
        if self.answered and now < self.ended_s:
            return CallStatus.IN_PROGRESS
        return self.final_status

    def created_json(self) -> dict[str, Any]:
        """The answer of `POST /calls`, as the docs show it."""
        return {
            "callId": self.call_id,
            "status": CallStatus.QUEUED.value,
            "toNumber": self.to_number,
            "agentId": self.agent_id,
            "createdAt": iso_utc(self.created_s),
        }

    def details_json(self, now: float) -> dict[str, Any]:
        """The answer of `GET /calls/:id` at `now`: what is not known yet is null."""
        status = self.status_at(now)
        final = status.is_final
        completed = final and self.answered
        return {
            "callId": self.call_id,
            "status": status.value,
            "toNumber": self.to_number,
            "agentId": self.agent_id,
            "createdAt": iso_utc(self.created_s),
            "duration": round(self.talk_s) if completed else (0 if final else None),
            "recording": f"https://recordings.voxpria.invalid/{self.call_id}.mp3"
            if completed
            else None,
            "transcript": self._transcript() if completed else None,
            "outcome": "successful" if completed else None,
            "startedAt": iso_utc(self.answered_s)
            if self.answered and now >= self.answered_s
            else None,
            "completedAt": iso_utc(self.ended_s) if final else None,
        }

    def _transcript(self) -> str:
        name = self.variables.get("customerName") or self.variables.get("name") or "there"
        return f"Agent: Hello {name}, this is a call from Voxpria. Customer: Thanks, goodbye."


def iso_utc(epoch_s: float) -> str:
    """ISO-8601 UTC with milliseconds and `Z`, as the API writes timestamps."""
    stamp = datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")
