"""The simulator's webhooks over real HTTP: which events each call sends, signed in both
schemes, in both payload variants; dropped, repeated and retried deliveries; subscriptions."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dialer.clock import SystemClock
from dialer.receiver import running_webhook_server
from dialer.settings import Secret
from dialer.simulator.config import SimulatorConfig
from dialer.simulator.server import SimulatorHandle, running_simulator
from dialer.voxpria.client import VoxpriaClient
from dialer.voxpria.models import CallStatus, Created
from dialer.voxpria.signatures import HEADER_A, HEADER_B, SignatureVerifier
from tests.cli_support import wait_until

KEY = "agl_sk_test_simulator_webhooks"
SECRET = Secret("whsec_simulator_test_secret")
SPEED = 600.0  # a 3-minute call is over in 0.3 s
FATES = {
    "+14155550001": "completed",
    "+14155550002": "failed",
    "+14155550003": "no_answer",
    "+14155550004": "busy",
}
WAIT_S = 10.0


@dataclass
class Recorder:
    """A webhook endpoint that keeps every delivery and fails the first `fail_first` of each
    (event, call) with a 500."""

    fail_first: int = 0
    deliveries: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    _attempts: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        key = _key(json.loads(body))
        with self._lock:
            self.deliveries.append((dict(request.headers), body))
            self._attempts[key] += 1
            failing = self._attempts[key] <= self.fail_first
        return JSONResponse({}, status_code=500 if failing else 200)

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(body) for _, body in self.deliveries]

    def count(self, event: str | None = None) -> int:
        return sum(1 for e in self.events() if event is None or e["event"] == event)


def _key(event: dict[str, Any]) -> str:
    data = event["data"]
    return f"{event['event']} {data.get('callId') or data.get('id')}"


@contextmanager
def recording(fail_first: int = 0) -> Iterator[tuple[Recorder, str]]:
    recorder = Recorder(fail_first)
    app = Starlette(routes=[Route("/hook", recorder.receive, methods=["POST"])])
    with running_webhook_server(app) as root_url:
        yield recorder, root_url + "/hook"


@contextmanager
def delivering(url: str, **overrides: Any) -> Iterator[SimulatorHandle]:
    config = SimulatorConfig(
        api_key=Secret(KEY),
        speed=SPEED,
        call_limit=None,
        request_limit=None,
        outcome_by_number=FATES,
        webhook_url=url,
        webhook_secret=SECRET,
        webhook_backoff_s=0.01,
    )
    with running_simulator(config, **overrides) as sim:
        try:
            yield sim
        finally:
            sim.sim.close()


def place_calls(sim: SimulatorHandle, numbers: list[str]) -> dict[str, str]:
    """toNumber -> callId of a call placed to each number."""
    with VoxpriaClient(sim.base_url, Secret(KEY)) as client:
        created = [client.create_call("agent_demo", n, {"name": "Ada"}) for n in numbers]
    assert all(isinstance(c, Created) for c in created)
    return {c.call.to_number or "": c.call.call_id for c in created if isinstance(c, Created)}


def finals(recorder: Recorder) -> int:
    return sum(recorder.count(e) for e in ("call.completed", "call.failed", "call.ended"))


@pytest.mark.integration
def test_each_final_status_sends_its_event() -> None:
    with recording() as (recorder, url), delivering(url) as sim:
        calls = place_calls(sim, list(FATES))
        wait_until(lambda: finals(recorder) == 4, timeout_s=WAIT_S, what="4 final events")
    by_call = {
        (e["data"]["callId"], e["event"]): e["data"].get("status") for e in recorder.events()
    }
    expected_final = {
        "completed": ("call.completed", "completed"),
        "failed": ("call.failed", "failed"),
        "no_answer": ("call.ended", "no_answer"),
        "busy": ("call.ended", "busy"),
    }
    for number, fate in FATES.items():
        event, status = expected_final[fate]
        assert by_call[(calls[number], event)] == status
        assert (calls[number], "call.started") in by_call
        assert ((calls[number], "call.answered") in by_call) == (fate == "completed")


@pytest.mark.integration
@pytest.mark.parametrize("scheme", ["A", "B"])
def test_deliveries_are_signed_in_the_configured_scheme(scheme: str) -> None:
    verifier = SignatureVerifier(SECRET, 300, SystemClock())
    with recording() as (recorder, url), delivering(url, webhook_scheme=scheme) as sim:
        place_calls(sim, ["+14155550001"])
        wait_until(lambda: finals(recorder) == 1, timeout_s=WAIT_S, what="the final event")
    header = HEADER_A if scheme == "A" else HEADER_B
    for headers, body in recorder.deliveries:
        assert header in headers and verifier.verify(headers, body).ok


@pytest.mark.integration
def test_the_id_payload_variant_renames_the_keys() -> None:
    with recording() as (recorder, url), delivering(url, webhook_payload="id") as sim:
        calls = place_calls(sim, ["+14155550001"])
        wait_until(lambda: finals(recorder) == 1, timeout_s=WAIT_S, what="the final event")
    completed = next(e for e in recorder.events() if e["event"] == "call.completed")
    data = completed["data"]
    assert data["id"] == calls["+14155550001"] and data["phoneNumber"] == "+14155550001"
    assert "Ada" in data["summary"]
    assert not {"callId", "toNumber", "transcript"} & set(data)
    assert set(completed) == {"event", "timestamp", "data"}


@pytest.mark.integration
def test_a_dropped_delivery_is_never_attempted() -> None:
    with recording() as (recorder, url), delivering(url, p_webhook_drop=1.0) as sim:
        place_calls(sim, list(FATES))
        stats = sim.sim.webhook_stats()
        pending = sim.sim.webhooks_pending()
    assert stats["events"] == stats["dropped"] == 9  # 4 started, 1 answered, 4 final
    assert pending == 0 and recorder.count() == 0


@pytest.mark.integration
def test_a_duplicated_delivery_arrives_twice() -> None:
    with recording() as (recorder, url), delivering(url, p_webhook_duplicate=1.0) as sim:
        place_calls(sim, ["+14155550002"])
        wait_until(lambda: finals(recorder) == 2, timeout_s=WAIT_S, what="the final event twice")
    assert Counter(e["event"] for e in recorder.events()) == {"call.started": 2, "call.failed": 2}


@pytest.mark.integration
def test_a_failed_delivery_is_retried_until_it_succeeds() -> None:
    with recording(fail_first=2) as (recorder, url), delivering(url) as sim:
        place_calls(sim, ["+14155550003"])
        wait_until(
            lambda: sim.sim.webhook_stats().get("delivered") == 2,
            timeout_s=WAIT_S,
            what="both events delivered",
        )
        stats = sim.sim.webhook_stats()
    assert recorder.count("call.ended") == 3 and recorder.count("call.started") == 3
    assert stats["failed"] == 4 and "given_up" not in stats


@pytest.mark.integration
def test_a_delivery_is_given_up_after_5_retries() -> None:
    with recording(fail_first=100) as (recorder, url), delivering(url) as sim:
        place_calls(sim, ["+14155550004"])
        wait_until(
            lambda: sim.sim.webhook_stats().get("given_up") == 2,
            timeout_s=WAIT_S,
            what="both events given up",
        )
    assert recorder.count("call.ended") == 6  # the first attempt and 5 retries


@pytest.mark.integration
def test_webhooks_leave_the_calls_fates_of_a_seed_unchanged() -> None:
    numbers = [f"+1415555{i:04d}" for i in range(30)]
    fates: list[list[CallStatus]] = []
    with recording() as (_, url):
        for hook in (None, url):
            secret = SECRET if hook else None
            with running_simulator(
                api_key=Secret(KEY), seed=5, webhook_url=hook, webhook_secret=secret
            ) as sim:
                calls = place_calls(sim, numbers)
                fates.append([sim.sim.final_status_of(calls[n]) for n in numbers])
                sim.sim.close()
    assert fates[0] == fates[1]


@pytest.mark.integration
def test_subscriptions_over_the_api_get_their_own_secret() -> None:
    verifier_of: dict[str, SignatureVerifier] = {}
    with recording() as (recorder, url), delivering(url) as sim:
        with VoxpriaClient(sim.base_url, Secret(KEY)) as client:
            created = client.create_webhook(url, ["call.completed"])
            listed = client.list_webhooks()
        assert created.webhook_id.startswith("wh_") and created.active is True
        assert created.secret is not None and created.secret.reveal().startswith("whsec_")
        assert created.webhook_id in {w.webhook_id for w in listed}
        assert all(w.secret is None for w in listed)  # shown once, at creation
        verifier_of["config"] = SignatureVerifier(SECRET, 300, SystemClock())
        verifier_of["api"] = SignatureVerifier(created.secret, 300, SystemClock())
        place_calls(sim, ["+14155550001"])
        # the configured subscription's 3 events, and the API one's call.completed
        wait_until(lambda: recorder.count() == 4, timeout_s=WAIT_S, what="4 deliveries")
    verified = Counter(
        name
        for headers, body in recorder.deliveries
        for name, verifier in verifier_of.items()
        if verifier.verify(headers, body).ok
    )
    assert verified == {"config": 3, "api": 1}


@pytest.mark.integration
@pytest.mark.parametrize(
    "body",
    [{"url": "ftp://x"}, {"events": ["call.completed"]}, {"url": "https://x", "events": "all"}],
)
def test_a_bad_subscription_is_400(body: dict[str, Any]) -> None:
    import httpx

    with running_simulator(api_key=Secret(KEY)) as sim:
        answer = httpx.post(
            f"{sim.base_url}/webhooks", json=body, headers={"Authorization": f"Bearer {KEY}"}
        )
    assert answer.status_code == 400 and answer.json()["success"] is False


def test_the_config_is_checked() -> None:
    with pytest.raises(ValueError, match="secret"):
        SimulatorConfig(webhook_url="http://127.0.0.1:1/hook")
    with pytest.raises(ValueError):
        SimulatorConfig(webhook_scheme="C")
    with pytest.raises(ValueError):
        SimulatorConfig(webhook_payload="uuid")
