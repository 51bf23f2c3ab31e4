"""What a simulated account is: agents, speed, outcomes, quotas, credits, faults, webhooks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from dialer.settings import Rate, Secret
from dialer.simulator.faults import Fault
from dialer.simulator.webhooks import (
    DeliveryPolicy,
    PayloadStyle,
)
from dialer.voxpria.models import FINAL_STATUSES
from dialer.voxpria.signatures import Scheme

MAX_PAGE_SIZE = 100


DEFAULT_PAGE_SIZE = 50


DOCUMENTED_CALL_LIMIT = Rate(100, 60)


DOCUMENTED_REQUEST_LIMIT = Rate(1000, 3600)


DEFAULT_AGENTS: Mapping[str, str] = {
    "agent_demo": "active",
    "agent_abc123": "active",
    "agent_test": "active",
    "agent_paused": "paused",
}


DEFAULT_OUTCOME_WEIGHTS: Mapping[str, float] = {
    "completed": 0.6,
    "no_answer": 0.2,
    "busy": 0.1,
    "failed": 0.1,
}


OutcomeRule = Mapping[str, str] | Callable[[str], str | None]


@dataclass(frozen=True)
class SimulatorConfig:
    # who may call: None (or an empty Secret) accepts any non-empty key
    api_key: Secret | None = None
    agents: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_AGENTS))
    accept_any_agent: bool = False  # an unknown agent id is treated as an active agent
    # time: phases in simulated seconds; `speed` simulated seconds pass per real second
    speed: float = 1.0
    queue_s: float = 2.0
    ring_s: float = 10.0
    talk_s: tuple[float, float] = (30.0, 180.0)
    # how calls end
    outcome_weights: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_OUTCOME_WEIGHTS)
    )
    outcome_by_number: OutcomeRule | None = None
    # quotas per key, in real seconds (None: off)
    call_limit: Rate | None = DOCUMENTED_CALL_LIMIT
    request_limit: Rate | None = DOCUMENTED_REQUEST_LIMIT
    # billing
    credits_balance: float = 10_000.0
    credits_per_call: float = 1.0
    currency: str = "USD"
    # faults: seeded probabilities per request (see `Fault` for what each does)
    p_429: float = 0.0
    p_5xx_before_create: float = 0.0
    p_lost_after_create: float = 0.0
    p_slow_after_create: float = 0.0
    p_flaky_get: float = 0.0
    slow_s: float = 5.0  # real seconds a slow answer is held back
    seed: int = 0
    # webhooks: a subscription from the start (more via POST /webhooks), signed with
    # `webhook_secret` in `webhook_scheme` ("A" or "B"), the payload keyed "callId" or "id"
    webhook_url: str | None = None
    webhook_secret: Secret | None = None
    webhook_events: tuple[str, ...] = ("call.*",)
    webhook_scheme: str = "A"
    webhook_payload: str = "callId"
    p_webhook_drop: float = 0.0  # a delivery never attempted
    p_webhook_duplicate: float = 0.0  # a delivery sent twice
    webhook_retries: int = 5  # after a non-2xx answer or no answer
    webhook_backoff_s: float = 0.05  # real seconds before the first retry; doubles after each

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError(f"speed must be positive, got {self.speed}")
        unknown = set(self.outcome_weights) - {status.value for status in FINAL_STATUSES}
        if unknown:
            raise ValueError(f"outcome_weights: {sorted(unknown)} are not final statuses")
        if self.webhook_url and not self.webhook_secret:
            raise ValueError("webhook_url needs a webhook_secret to sign deliveries with")
        Scheme(self.webhook_scheme)  # ValueError unless "A" or "B"
        PayloadStyle(self.webhook_payload)  # ValueError unless "callId" or "id"

    def delivery_policy(self) -> DeliveryPolicy:
        return DeliveryPolicy(
            scheme=Scheme(self.webhook_scheme),
            payload=PayloadStyle(self.webhook_payload),
            p_drop=self.p_webhook_drop,
            p_duplicate=self.p_webhook_duplicate,
            retries=self.webhook_retries,
            backoff_s=self.webhook_backoff_s,
        )

    def fault_probabilities(self) -> dict[Fault, float]:
        return {
            Fault.THROTTLE: self.p_429,
            Fault.ERROR_BEFORE_CREATE: self.p_5xx_before_create,
            Fault.LOST_AFTER_CREATE: self.p_lost_after_create,
            Fault.SLOW_AFTER_CREATE: self.p_slow_after_create,
            Fault.FLAKY_GET: self.p_flaky_get,
        }


@dataclass(frozen=True)
class AuditEntry:
    """A call the simulator created, whatever the client saw of the answer."""

    call_id: str
    to_number: str
    agent_id: str
    created_s: float  # epoch seconds
