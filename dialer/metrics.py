"""Prometheus metrics: what the dialer did (counters, recorded where it happens) and what the
store holds (gauges, read from the store when scraped).

The recorder is passed in (`Metrics`, or `NO_METRICS` where nobody scrapes), never a module
global: the client, the engine, the limiter (wrapped) and the webhook receiver each get one.

Multiprocess: a Celery worker runs its shifts in forked pool processes, so one process's counters
are not the worker's. prometheus_client's own multiprocess mode is used (PROMETHEUS_MULTIPROC_DIR:
each process writes its counters to a file there, the scrape sums them) rather than a port per
process: one port per worker is what the operator configures and scrapes, whatever the pool size,
and the sum is right across pool restarts. The mode is chosen when prometheus_client is first
imported, so it is imported here only when a recorder is built, after the worker has set the
folder (`workers.app`). Exposing them (the store gauges, the registry a scrape reads, `/metrics`)
is `campaigns.report.exposition`'s, above the campaigns.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Protocol

from dialer.clock import Clock
from dialer.settings import Rate

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from dialer.limiter import Limiter, StopCheck

log = logging.getLogger(__name__)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Limiter waits span microseconds (a free slot) to a minute (after a 429).
WAIT_BUCKETS_S = (0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, float("inf"))
_ID_SEGMENT = re.compile(r"^/(calls|agents|webhooks)/[^/]+")


class Recorder(Protocol):
    """What the dialer's parts tell the metrics; `NO_METRICS` is the one that keeps nothing."""

    def api_request(self, method: str, path: str, status: int | None) -> None:
        """One HTTP request and its status (None: no answer came)."""

    def post_outcome(self, outcome: str) -> None:
        """A POST /calls classified: created, rejected, not_sent, throttled, ambiguous."""

    def call_created(self) -> None:
        """A call exists because of us (created, or found when reconciling a lost answer)."""

    def limiter_wait(self, wait_s: float) -> None:
        """The limiter's answer to one attempt: 0 when the slot was taken."""

    def webhook_delivery(self, result: str) -> None:
        """A delivery's fate: applied, duplicate, ... or refused, malformed, too_large, error."""


class NoMetrics:
    def api_request(self, method: str, path: str, status: int | None) -> None:
        pass

    def post_outcome(self, outcome: str) -> None:
        pass

    def call_created(self) -> None:
        pass

    def limiter_wait(self, wait_s: float) -> None:
        pass

    def webhook_delivery(self, result: str) -> None:
        pass


NO_METRICS: Recorder = NoMetrics()


def endpoint_of(method: str, path: str) -> str:
    """A bounded label for a request: `GET /calls/{id}`, never the id itself."""
    return f"{method} {_ID_SEGMENT.sub(lambda m: f'/{m.group(1)}/{{id}}', path.split('?')[0])}"


class Metrics:
    """The Prometheus recorder. Its metrics live in `registry` (its own; none of
    prometheus_client's global default) and, in multiprocess mode, in the folder's files."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry
        self.calls_created = Counter(
            "dialer_calls_created", "Calls that exist because of the dialer.", registry=r
        )
        self.post_outcomes = Counter(
            "dialer_post_outcomes", "POST /calls answers by class.", ["outcome"], registry=r
        )
        self.api_requests = Counter(
            "dialer_api_requests", "Voxpria API requests.", ["endpoint", "status"], registry=r
        )
        self.throttled = Counter(
            "dialer_api_throttled", "API answers 429 (over a quota).", ["endpoint"], registry=r
        )
        self.limiter_waits = Histogram(
            "dialer_limiter_wait_seconds",
            "The limiter's answered wait per attempt (0: a slot was free).",
            buckets=WAIT_BUCKETS_S,
            registry=r,
        )
        self.webhooks = Counter(
            "dialer_webhook_deliveries", "Webhook deliveries by result.", ["result"], registry=r
        )

    def api_request(self, method: str, path: str, status: int | None) -> None:
        endpoint = endpoint_of(method, path)
        self.api_requests.labels(endpoint, str(status) if status else "no_answer").inc()
        if status == 429:
            self.throttled.labels(endpoint).inc()

    def post_outcome(self, outcome: str) -> None:
        self.post_outcomes.labels(outcome).inc()

    def call_created(self) -> None:
        self.calls_created.inc()

    def limiter_wait(self, wait_s: float) -> None:
        self.limiter_waits.observe(max(wait_s, 0.0))

    def webhook_delivery(self, result: str) -> None:
        self.webhooks.labels(result).inc()


class MeteredLimiter:
    """A limiter whose every answered wait is recorded; it changes no decision."""

    def __init__(self, inner: Limiter, metrics: Recorder) -> None:
        self._inner = inner
        self._metrics = metrics

    def acquire_call(self, agent_id: str, agent_rate: Rate | None) -> float:
        wait_s = self._inner.acquire_call(agent_id, agent_rate)
        self._metrics.limiter_wait(wait_s)
        return wait_s

    def acquire_request(self) -> float:
        wait_s = self._inner.acquire_request()
        self._metrics.limiter_wait(wait_s)
        return wait_s

    def push_back(self, until: float) -> None:
        self._inner.push_back(until)

    def wait_call(
        self, agent_id: str, agent_rate: Rate | None, clock: Clock, stop: StopCheck | None = None
    ) -> bool:
        from dialer.limiter import wait_for

        return wait_for(lambda: self.acquire_call(agent_id, agent_rate), clock, stop)

    def wait_request(self, clock: Clock, stop: StopCheck | None = None) -> bool:
        from dialer.limiter import wait_for

        return wait_for(self.acquire_request, clock, stop)
