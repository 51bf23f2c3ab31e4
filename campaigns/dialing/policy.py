"""How one campaign dials and polls: the run's options as values, stored with the campaign so a
resumed run (or another worker) dials exactly the same way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from campaigns.dialing.rules import CallingRules
from campaigns.dialing.rules_file import rules_from_json
from campaigns.dialing.windows import CallingWindow
from campaigns.store.history import DEFAULT_RECALL_AFTER_S
from campaigns.store.rows import RowStatus
from dialer.errors import InputError
from dialer.settings import Rate

REDIAL_STATUSES = (RowStatus.BUSY, RowStatus.NO_ANSWER, RowStatus.FAILED)
IN_DOUBT_CHOICES = ("verify", "unknown")
DEFAULT_VERIFY_AFTER_S = 120.0


@dataclass(frozen=True)
class PollPolicy:
    """When to look at a live call again. One list page refreshes every active call on it, so
    these intervals bound the page requests per minute, not per call. `scale` shrinks every
    interval for a time-scaled simulator (0.01 for a simulator at speed 100)."""

    min_interval_s: float = 10.0
    max_interval_s: float = 60.0
    page_size: int = 100
    scale: float = 1.0
    # With webhooks on, a call is looked at only once it is this old without its final event.
    webhook_overdue_s: float | None = None

    def next_check_s(self, age_s: float) -> float:
        """Seconds (real) until a call `age_s` (real) old is looked at again."""
        age_s /= self.scale  # in the simulated time the intervals are written in
        # A call's chance to change grows with its age: check young calls often, old ones less.
        interval_s = min(max(age_s / 2, self.min_interval_s), self.max_interval_s)
        if self.webhook_overdue_s is not None:
            interval_s = max(interval_s, self.webhook_overdue_s - age_s)
        return interval_s * self.scale


@dataclass(frozen=True)
class DialPolicy:
    agent_id: str
    agent_rate: Rate | None = None
    max_active: int = 10
    window: CallingWindow = field(default_factory=lambda: CallingWindow.parse("08:00-21:00"))
    redial: Mapping[str, int] = field(default_factory=dict)  # final status -> extra attempts
    redial_after_s: float = 1800.0
    lease_s: float = 30.0  # longer than a POST can take (timeouts), short enough to recover fast
    retry_not_sent_s: float = 5.0
    poll: PollPolicy = field(default_factory=PollPolicy)
    recall_after_s: float = DEFAULT_RECALL_AFTER_S  # the contact history's recall guard; 0: off
    recall_group: str = ""  # calls of one group never block each other ("": the campaign)
    in_doubt: str = "verify"  # a lost POST answer: "verify" (prove absence, dial) or "unknown"
    verify_after_s: float = DEFAULT_VERIFY_AFTER_S  # the call list is searched this long
    max_calls: str = ""  # `--max-calls 7/7d` as written (campaigns.store.history.CallCap); "": none
    min_balance: float | None = None  # `--min-balance`: no new call under this credit balance
    rules: CallingRules | None = None  # `--rules FILE`: calling rules per place, read once

    def extra_attempts(self, status: RowStatus) -> int:
        return int(self.redial.get(status.value, 0))

    def to_json(self) -> dict[str, Any]:
        return {
            "agent_id": self.agent_id,
            "agent_rate": str(self.agent_rate) if self.agent_rate else None,
            "max_active": self.max_active,
            "window": self.window.text,  # parsed back by CallingWindow.parse
            "redial": dict(self.redial),
            "redial_after_s": self.redial_after_s,
            "lease_s": self.lease_s,
            "retry_not_sent_s": self.retry_not_sent_s,
            "poll": {
                "min_interval_s": self.poll.min_interval_s,
                "max_interval_s": self.poll.max_interval_s,
                "page_size": self.poll.page_size,
                "scale": self.poll.scale,
                "webhook_overdue_s": self.poll.webhook_overdue_s,
            },
            "recall_after_s": self.recall_after_s,
            "recall_group": self.recall_group,
            "in_doubt": self.in_doubt,
            "verify_after_s": self.verify_after_s,
            "max_calls": self.max_calls,
            "min_balance": self.min_balance,
            "rules": self.rules.to_json() if self.rules is not None else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DialPolicy:
        rate = data.get("agent_rate")
        return cls(
            agent_id=str(data["agent_id"]),
            agent_rate=Rate.parse(rate, name="--rate") if rate else None,
            max_active=int(data["max_active"]),
            window=CallingWindow.parse(str(data["window"])),
            redial={str(k): int(v) for k, v in dict(data.get("redial", {})).items()},
            redial_after_s=float(data["redial_after_s"]),
            lease_s=float(data["lease_s"]),
            retry_not_sent_s=float(data["retry_not_sent_s"]),
            poll=PollPolicy(**dict(data["poll"])),
            # campaigns stored before the contact history keep working with the defaults
            recall_after_s=float(data.get("recall_after_s", DEFAULT_RECALL_AFTER_S)),
            recall_group=str(data.get("recall_group", "")),
            in_doubt=str(data.get("in_doubt", "verify")),
            verify_after_s=float(data.get("verify_after_s", DEFAULT_VERIFY_AFTER_S)),
            max_calls=str(data.get("max_calls", "")),
            min_balance=None if data.get("min_balance") is None else float(data["min_balance"]),
            rules=rules_from_json(data["rules"]) if data.get("rules") else None,
        )


def parse_redial(text: str | None) -> dict[str, int]:
    """`busy=2,no_answer=1` -> {"busy": 2, "no_answer": 1}."""
    if not text:
        return {}
    allowed = {s.value for s in REDIAL_STATUSES}
    result: dict[str, int] = {}
    for part in text.split(","):
        name, _, count = part.strip().partition("=")
        name = name.strip().lower().replace("-", "_")
        if name not in allowed or not count.strip().isdigit():
            raise InputError(
                f"--redial {text!r}: write it as busy=N,no_answer=N,failed=N "
                f"(statuses: {', '.join(sorted(allowed))}; N a whole number)."
            )
        result[name] = int(count)
    return result


def parse_in_doubt(text: str) -> str:
    choice = text.strip().lower()
    if choice not in IN_DOUBT_CHOICES:
        raise InputError(
            f"--in-doubt {text!r}: write verify (dial again once the call list proves no call "
            "was created) or unknown (never dial a row whose answer was lost)."
        )
    return choice
