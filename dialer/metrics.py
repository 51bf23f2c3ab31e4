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
folder (`workers.app`). Store gauges are read by the exposing process alone, so they need no
multiprocess mode.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from dialer.clock import Clock
from dialer.settings import Rate

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from prometheus_client.metrics_core import Metric
    from starlette.applications import Starlette

    from campaigns.store import RowStore
    from dialer.limiter import Limiter, StopCheck
    from dialer.services import Services

log = logging.getLogger("dialer.metrics")
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


class StoreCollector:
    """Gauges read from the store at scrape time, for the campaigns still running: rows by
    status, calls live, and poll lag (now minus the due time of the oldest due call). Every
    endpoint that shares a store shows the same figures: aggregate them with max, not sum."""

    def __init__(self, store: Callable[[], RowStore], clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def describe(self) -> Iterable[Metric]:
        return []  # the campaigns are only known at scrape time

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        from campaigns.store import CampaignState, RowStatus

        rows = GaugeMetricFamily(
            "dialer_rows", "Rows of a running campaign by status.", labels=["campaign", "status"]
        )
        live = GaugeMetricFamily(
            "dialer_calls_live", "Calls started and not yet ended.", labels=["campaign"]
        )
        lag = GaugeMetricFamily(
            "dialer_poll_lag_seconds",
            "Now minus the due time of the oldest call due for a poll (0: none overdue).",
            labels=["campaign"],
        )
        up = GaugeMetricFamily("dialer_store_up", "1 when the store answered this scrape.")
        try:
            store = self._store()
            now = self._clock.now()
            for meta in store.list_campaigns():
                if meta.state not in (CampaignState.RUNNING, CampaignState.STOPPING):
                    continue
                counts = store.counts(meta.campaign_id)
                for status in RowStatus:
                    rows.add_metric([meta.campaign_id, status.value], counts.get(status, 0))
                live.add_metric([meta.campaign_id], counts.get(RowStatus.ACTIVE, 0))
                due_at = store.next_poll_at(meta.campaign_id)
                lag.add_metric([meta.campaign_id], max(now - due_at, 0.0) if due_at else 0.0)
        except Exception as exc:  # the counters are still worth a scrape without the store
            log.warning("metrics: the store did not answer (%s)", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield from (rows, live, lag, up)


def prepare_multiprocess(folder: str | None) -> str:
    """Before prometheus_client is imported in a process that forks: the folder the pool's
    processes write to, emptied (its files are the previous run's counters). A folder of our
    own is made when none is set."""
    import tempfile

    path = folder or tempfile.mkdtemp(prefix="dialer-metrics-")
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.remove(os.path.join(path, name))
    os.environ[MULTIPROC_ENV] = path
    return path


def exposition_registry(
    local: CollectorRegistry | None, extra: Iterable[Any] = ()
) -> CollectorRegistry:
    """The registry a scrape reads: every process's counters in multiprocess mode, else this
    process's (`local`), plus the store gauges."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = local if local is not None else CollectorRegistry()
    for collector in extra:
        registry.register(collector)
    return registry


def mark_process_dead(pid: int) -> None:
    """A pool process ended: its live-gauge files go (counters stay summed)."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def serve_metrics(registry: CollectorRegistry, port: int, host: str = "0.0.0.0") -> None:
    """`/metrics` on `port`, from a daemon thread."""
    from prometheus_client import start_http_server

    start_http_server(port, addr=host, registry=registry)


def render(registry: CollectorRegistry) -> tuple[bytes, str]:
    """The exposition text and its content type (for `/metrics` on `dialer serve`)."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    return generate_latest(registry), CONTENT_TYPE_LATEST


def with_metrics_route(
    app: Starlette, metrics: Metrics, services: Services, clock: Clock
) -> Starlette:
    """`app` with `GET /metrics` in front (what `dialer serve` serves)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Mount, Route

    registry = exposition_registry(
        metrics.registry, [StoreCollector(lambda: services.store, clock)]
    )

    def scrape(request: Request) -> Response:  # sync: Starlette runs it in a thread
        body, content_type = render(registry)
        return Response(body, media_type=content_type)

    return Starlette(routes=[Route("/metrics", scrape, methods=["GET"]), Mount("", app=app)])
