"""Exposing the metrics: the store gauges (read from the store when scraped), the registry a
scrape reads (every process's counters in multiprocess mode), a worker's port and `/metrics` on
`dialer serve`. Store gauges are read by the exposing process alone, so they need no
multiprocess mode. The counters themselves are `dialer.metrics`'s.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from dialer.clock import Clock
from dialer.metrics import MULTIPROC_ENV

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from prometheus_client.metrics_core import Metric

    from campaigns.store.rows import RowStore

log = logging.getLogger(__name__)


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

        from campaigns.store.rows import LIVE_STATES, RowStatus

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
                if meta.state not in LIVE_STATES:
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


