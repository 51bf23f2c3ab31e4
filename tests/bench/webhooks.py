"""Webhook economy: API requests per call when Voxpria pushes outcomes instead of being polled.

    from tests.bench.webhooks import measure_webhook_economy
    figures = measure_webhook_economy(quick=True)   # a dict of floats, printed by the caller

Every scenario is a whole campaign over real HTTP: the simulator creates the calls and delivers
their events, signed, to the receiver `dialer serve` runs (its app, under uvicorn in a thread),
which records them in the store; the engine polls only calls whose final event is overdue (the
safety net). A request is any API request the simulator received (creations and polls); a call
is one that reached its final status. `run_webhook_campaign` is also what the end-to-end tests
assert on.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from campaigns.dialing.policy import PollPolicy
from campaigns.store.rows import Row, RowStore
from campaigns.store.sqlite_store import SqliteStore
from dialer.clock import SystemClock
from dialer.receiver import WEBHOOK_PATH, create_webhook_app, running_webhook_server
from dialer.settings import Secret
from dialer.simulator.server import SimulatorHandle, running_simulator
from dialer.voxpria.models import CallStatus
from dialer.voxpria.signatures import SignatureVerifier
from tests.engine_support import (
    CID,
    create,
    fast_policy,
    make_engine,
    new_rows,
    numbers,
    run_to_end,
)

API_KEY = "agl_sk_bench_webhooks"
# Simulated seconds a call may go without its final event before it is polled: longer than the
# longest simulated call (2 s queued + 10 s ringing + 180 s talking).
OVERDUE_S = 300.0
TOLERANCE_S = 300.0


@dataclass(frozen=True)
class Scenario:
    calls: int
    speed: float  # simulated seconds per real second
    webhooks: bool = True
    p_drop: float = 0.0
    p_duplicate: float = 0.0
    scheme: str = "A"
    payload: str = "callId"
    seed: int = 1


@dataclass(frozen=True)
class CampaignResult:
    rows: list[Row]
    truth: dict[str, CallStatus]  # callId -> its status at the simulator once the run ended
    calls_per_number: dict[str, int]  # toNumber -> calls the simulator created to it
    requests: dict[str, int]  # API requests the simulator received, by endpoint
    deliveries: dict[str, int]  # what became of the webhook deliveries (simulator side)
    elapsed_s: float

    @property
    def calls(self) -> int:
        return len(self.truth)

    @property
    def requests_per_call(self) -> float:
        return sum(self.requests.values()) / max(self.calls, 1)

    @property
    def polls(self) -> int:
        return sum(n for endpoint, n in self.requests.items() if endpoint.startswith("GET"))

    def wrong_rows(self) -> list[str]:
        """Rows whose status is not the simulator's final status of their call."""
        return [
            f"row {r.idx}: {r.status.value}, call {r.call_id or '-'} "
            f"{self.truth.get(r.call_id, 'not created')}"
            for r in self.rows
            if r.status.value != self.truth.get(r.call_id)
        ]


@contextmanager
def receiver(store: RowStore, secret: Secret) -> Iterator[str]:
    """`dialer serve`'s app on `store`, served on a free port; yields the delivery URL."""
    clock = SystemClock()
    app = create_webhook_app(store, SignatureVerifier(secret, TOLERANCE_S, clock), clock)
    with running_webhook_server(app) as root_url:
        yield root_url + WEBHOOK_PATH


@contextmanager
def simulator_for(scenario: Scenario, url: str | None, secret: Secret) -> Iterator[SimulatorHandle]:
    """The simulator of `scenario`, delivering to `url` (None: no webhooks); stops delivering
    when the block ends, so no event outlives its receiver."""
    with running_simulator(
        api_key=Secret(API_KEY),
        speed=scenario.speed,
        call_limit=None,
        request_limit=None,
        seed=scenario.seed,
        webhook_url=url,
        webhook_secret=secret if url else None,
        webhook_scheme=scenario.scheme,
        webhook_payload=scenario.payload,
        p_webhook_drop=scenario.p_drop,
        p_webhook_duplicate=scenario.p_duplicate,
    ) as handle:
        try:
            yield handle
        finally:
            handle.sim.close()


def run_webhook_campaign(
    store: RowStore, scenario: Scenario, deadline_s: float = 120.0
) -> CampaignResult:
    """Run one campaign of `scenario.calls` rows to its end; the rows, truth and counts."""
    secret = Secret(f"whsec_{secrets.token_urlsafe(24)}")
    overdue_s = OVERDUE_S if scenario.webhooks else None
    policy = fast_policy(
        scenario.speed, poll=PollPolicy(scale=1 / scenario.speed, webhook_overdue_s=overdue_s)
    )
    create(store, new_rows(numbers(scenario.calls)), policy)
    with (
        receiver(store, secret) as url,
        simulator_for(scenario, url if scenario.webhooks else None, secret) as sim,
    ):
        started = time.monotonic()
        run_to_end(make_engine(store, sim, API_KEY, policy), deadline_s)
        elapsed_s = time.monotonic() - started
        audit = sim.sim.audit()
        return CampaignResult(
            rows=list(store.iter_rows(CID)),
            truth={entry.call_id: sim.sim.status_of(entry.call_id) for entry in audit},
            calls_per_number=dict(Counter(entry.to_number for entry in audit)),
            requests=sim.sim.stats(),
            deliveries=sim.sim.webhook_stats(),
            elapsed_s=elapsed_s,
        )


def _run_in_temp_store(scenario: Scenario) -> CampaignResult:
    with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as folder:
        store = SqliteStore(Path(folder) / "state.sqlite")
        try:
            return run_webhook_campaign(store, scenario)
        finally:
            store.close()


def measure_webhook_economy(quick: bool) -> dict[str, float]:
    """API requests per completed call: polling only, webhooks, webhooks with 20% of the
    deliveries dropped (and 10% repeated). Speed 100: a call lasts 0.1 to 2 real seconds, so a
    call's events rarely arrive before its creation is recorded (which would cost a poll)."""
    calls = 60 if quick else 300
    polling = _run_in_temp_store(Scenario(calls=calls, speed=100.0, webhooks=False))
    clean = _run_in_temp_store(Scenario(calls=calls, speed=100.0))
    lossy = _run_in_temp_store(Scenario(calls=calls, speed=100.0, p_drop=0.2, p_duplicate=0.1))
    for result in (polling, clean, lossy):
        wrong = result.wrong_rows()
        if wrong:  # a figure of a run that got rows wrong would mean nothing
            raise RuntimeError(f"rows disagree with the simulator: {wrong[:5]}")
    return {
        "webhook_calls": float(calls),
        "requests_per_call_polling_only": polling.requests_per_call,
        "requests_per_call_webhooks": clean.requests_per_call,
        "requests_per_call_webhooks_20pct_dropped": lossy.requests_per_call,
        "polls_webhooks": float(clean.polls),
        "polls_webhooks_20pct_dropped": float(lossy.polls),
        "deliveries_dropped": float(lossy.deliveries.get("dropped", 0)),
        "elapsed_s_webhooks": clean.elapsed_s,
        "elapsed_s_polling_only": polling.elapsed_s,
    }


if __name__ == "__main__":
    for name, value in measure_webhook_economy(quick=True).items():
        print(f"{name:45s} {value:8.3f}")
