"""The Prometheus recorder: bounded labels, 429s counted, limiter waits recorded without changing
a decision, every pool process summed on one port, and `/metrics` on the served app (webhook
deliveries by result, the store's live figures)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest
from prometheus_client import generate_latest

from campaigns.report.exposition import StoreCollector, render
from campaigns.store.sqlite_store import SqliteStore
from dialer.clock import FakeClock
from dialer.limiter import LocalLimiter
from dialer.metrics import MeteredLimiter, Metrics, endpoint_of
from dialer.receiver import WEBHOOK_PATH, running_webhook_server
from dialer.settings import Rate
from dialer.voxpria.signatures import HEADER_A, Scheme
from tests.engine_support import CID
from tests.test_webhooks_receiver import SECRET, compact, signed
from tests.test_webhooks_support import call_event, live_calls


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


@pytest.mark.parametrize(
    ("method", "path", "label"),
    [
        ("GET", "/calls/call_123abc", "GET /calls/{id}"),
        ("GET", "/calls?page=2&limit=100", "GET /calls"),
        ("POST", "/calls", "POST /calls"),
        ("GET", "/agents/agent_x", "GET /agents/{id}"),
        ("GET", "/credits", "GET /credits"),
    ],
)
def test_an_endpoint_label_never_holds_an_id(method: str, path: str, label: str) -> None:
    assert endpoint_of(method, path) == label


def test_requests_are_counted_by_endpoint_and_status_and_429s_apart() -> None:
    m = Metrics()
    m.api_request("GET", "/calls/c1", 200)
    m.api_request("GET", "/calls/c2", 200)
    m.api_request("POST", "/calls", 429)
    m.api_request("POST", "/calls", None)
    assert sample(m, "dialer_api_requests_total", endpoint="GET /calls/{id}", status="200") == 2
    assert sample(m, "dialer_api_requests_total", endpoint="POST /calls", status="429") == 1
    assert sample(m, "dialer_api_requests_total", endpoint="POST /calls", status="no_answer") == 1
    assert sample(m, "dialer_api_throttled_total", endpoint="POST /calls") == 1
    body, content_type = render(m.registry)
    assert b"dialer_api_throttled_total" in body and content_type.startswith("text/plain")


def test_the_metered_limiter_records_each_answer_and_decides_nothing() -> None:
    clock = FakeClock(1_000.0)
    plain = LocalLimiter(Rate(2, 1), Rate(100, 1), clock)
    metered_inner = LocalLimiter(Rate(2, 1), Rate(100, 1), clock)
    m = Metrics()
    metered = MeteredLimiter(metered_inner, m)
    answers = [(plain.acquire_call("a", None), metered.acquire_call("a", None)) for _ in range(3)]
    assert [a for a, _ in answers] == [b for _, b in answers]
    assert answers[0][1] == 0 and answers[2][1] > 0
    assert sample(m, "dialer_limiter_wait_seconds_count") == 3
    assert sample(m, "dialer_limiter_wait_seconds_bucket", le="0.0") == 1  # one free slot


@pytest.mark.integration
def test_every_pool_process_is_counted_on_one_port(tmp_path: Path) -> None:
    """Forked processes record into PROMETHEUS_MULTIPROC_DIR; the exposing process sums them
    (a fresh interpreter: the mode is chosen when prometheus_client is imported)."""
    script = textwrap.dedent(
        """
        import multiprocessing, os, sys
        from campaigns.report.exposition import prepare_multiprocess
        prepare_multiprocess(sys.argv[1])
        from dialer.metrics import Metrics
        from campaigns.report.exposition import exposition_registry

        def work() -> None:
            m = Metrics()
            for _ in range(3):
                m.call_created()
            m.api_request("POST", "/calls", 429)

        ctx = multiprocessing.get_context("fork")
        procs = [ctx.Process(target=work) for _ in range(4)]
        [p.start() for p in procs]
        [p.join() for p in procs]
        registry = exposition_registry(None)
        print(registry.get_sample_value("dialer_calls_created_total"))
        print(registry.get_sample_value(
            "dialer_api_throttled_total", {"endpoint": "POST /calls"}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "mp")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["12.0", "4.0"]


def test_store_gauges_show_running_campaigns_live_figures(tmp_path: Path) -> None:
    clock = FakeClock(2_000_000_000.0)
    store = SqliteStore(tmp_path / "s.sqlite")
    try:
        live_calls(store, n=3)
        m = Metrics()
        m.registry.register(StoreCollector(lambda: store, clock))
        assert sample(m, "dialer_calls_live", campaign=CID) == 3
        assert sample(m, "dialer_rows", campaign=CID, status="active") == 3
        assert m.registry.get_sample_value("dialer_poll_lag_seconds", {"campaign": CID}) is not None
        assert b"dialer_rows{" in generate_latest(m.registry)
    finally:
        store.close()


@pytest.mark.integration
def test_served_metrics_count_webhook_deliveries_by_result(tmp_path: Path) -> None:
    from campaigns.backends import open_services
    from dialer.clock import SystemClock
    from dialer.settings import Settings
    from dialer.web.app import build_serve_app
    from dialer.web.metrics_route import with_metrics_route

    settings = Settings(home=tmp_path, webhook_secret=SECRET)
    clock = SystemClock()
    services = open_services(settings, clock)
    try:
        call_ids = live_calls(services.store, n=2)
        m = Metrics()
        served = build_serve_app(settings, services, clock, metrics=m)
        app = with_metrics_route(served.app, m, services, clock)
        with running_webhook_server(app) as root, httpx.Client(base_url=root) as http:
            body = compact(call_event("call.completed", call_ids[0], status="completed"))
            good = http.post(WEBHOOK_PATH, content=body, headers=signed(body, Scheme.A))
            forged = http.post(WEBHOOK_PATH, content=body, headers={HEADER_A: "sha256=00"})
            assert (good.status_code, forged.status_code) == (200, 401)
            scraped = http.get("/metrics")
        assert scraped.status_code == 200
        text = scraped.text
        assert 'dialer_webhook_deliveries_total{result="refused"} 1.0' in text
        assert f'dialer_calls_live{{campaign="{CID}"}} 1.0' in text
        assert SECRET.reveal() not in text
    finally:
        served.runs.stop_all()
        services.close()


def test_a_request_that_gets_no_answer_is_counted(tmp_path: Path) -> None:
    from dialer.settings import Secret
    from dialer.voxpria.client import VoxpriaClient

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    m = Metrics()
    client = VoxpriaClient(
        "http://sim/api/v1", Secret("k"), transport=httpx.MockTransport(refuse), metrics=m
    )
    client.create_call("agent", "+12125550100", {})
    assert sample(m, "dialer_api_requests_total", endpoint="POST /calls", status="no_answer") == 1


def test_the_sample_dashboard_only_charts_metrics_the_dialer_exports(tmp_path: Path) -> None:
    import json
    import re

    root = Path(__file__).resolve().parent.parent
    dashboard = json.loads((root / "examples" / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    charted = {name for e in exprs for name in re.findall(r"\bdialer_[a-z_]+", e)}
    store = SqliteStore(tmp_path / "s.sqlite")
    try:
        live_calls(store, n=1)
        m = Metrics()
        m.registry.register(StoreCollector(lambda: store, FakeClock()))
        m.api_request("POST", "/calls", 429)
        m.post_outcome("created")
        m.call_created()
        m.limiter_wait(0.2)
        m.webhook_delivery("applied")
        exported = set(re.findall(r"^(dialer_[a-z_]+)", generate_latest(m.registry).decode(), re.M))
    finally:
        store.close()
    assert charted and charted <= exported, charted - exported
    assert {"dialer_calls_created_total", "dialer_api_throttled_total"} <= charted


def test_a_store_that_does_not_answer_leaves_the_counters_scrapable() -> None:
    def broken() -> SqliteStore:
        raise OSError("Redis went away")

    m = Metrics()
    m.call_created()
    m.registry.register(StoreCollector(broken, FakeClock()))
    text = generate_latest(m.registry).decode()
    assert "dialer_store_up 0.0" in text and "dialer_calls_created_total 1.0" in text
