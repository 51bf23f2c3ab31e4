"""The simulator in process (Starlette's TestClient), its time driven by a fake clock."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import datetime
from typing import Any

import pytest

from dialer.clock import FakeClock
from dialer.settings import Rate, Secret
from dialer.simulator.api import Simulator, create_simulator
from dialer.simulator.config import SimulatorConfig
from dialer.simulator.faults import Fault
from dialer.voxpria.models import CallStatus

with warnings.catch_warnings():  # Starlette now prefers httpx2 (not a dependency) to httpx here
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

KEY = "agl_sk_test_simulator_key"
AUTH = {"Authorization": f"Bearer {KEY}"}
NUMBER = "+14155551234"
# phases at speed 1: queued 2 s, ringing 10 s, talk 60 s
TIMING: dict[str, Any] = {"speed": 1.0, "queue_s": 2.0, "ring_s": 10.0, "talk_s": (60.0, 60.0)}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=1_700_000_010.0)


Start = Callable[..., tuple[Simulator, TestClient]]


@pytest.fixture
def start(clock: FakeClock) -> Iterator[Start]:
    """Builds a simulator with `SimulatorConfig` overrides and a TestClient on it. (Entering the
    client keeps one event loop thread for all its requests: much faster.)"""
    with ExitStack() as stack:

        def started(**overrides: Any) -> tuple[Simulator, TestClient]:
            config = SimulatorConfig(**{"api_key": Secret(KEY), **TIMING, **overrides})
            sim = create_simulator(config, clock)
            client = TestClient(sim.app, base_url="http://sim/api/v1/")
            return sim, stack.enter_context(client)

        yield started


@pytest.fixture
def http(start: Start) -> TestClient:
    return start(call_limit=None, request_limit=None)[1]


def post_call(http: TestClient, to_number: str = NUMBER, **body: Any) -> Any:
    payload = {"agentId": "agent_abc123", "toNumber": to_number, "variables": {}, **body}
    return http.post("calls", json=payload, headers=AUTH)


def call_status(http: TestClient, call_id: str) -> Any:
    return http.get(f"calls/{call_id}", headers=AUTH).json()["data"]


# --- lifecycle ---


def test_a_completed_call_moves_through_every_status_with_time(
    start: Start, clock: FakeClock
) -> None:
    _, http = start(outcome_by_number={NUMBER: "completed"})
    created = post_call(http).json()["data"]
    seen = []
    for step_s in (0, 2, 10, 59, 1):  # 0 s, 2 s, 12 s, 71 s, 72 s after creation
        clock.advance(step_s)
        seen.append(call_status(http, created["callId"])["status"])
    assert seen == ["queued", "ringing", "in_progress", "in_progress", "completed"]
    data = call_status(http, created["callId"])
    assert data["duration"] == 60
    assert data["outcome"] == "successful"
    assert data["recording"].startswith("https://")
    assert data["transcript"]
    assert data["startedAt"] == "2023-11-14T22:13:42.000Z"  # created + 12 s
    assert data["completedAt"] == "2023-11-14T22:14:42.000Z"


@pytest.mark.parametrize("final", ["no_answer", "busy", "failed"])
def test_an_unanswered_call_ends_after_ringing_without_in_progress(
    start: Start, clock: FakeClock, final: str
) -> None:
    _, http = start(outcome_by_number=lambda number: final)
    call_id = post_call(http).json()["data"]["callId"]
    clock.advance(11.9)
    assert call_status(http, call_id)["status"] == "ringing"
    clock.advance(0.2)
    data = call_status(http, call_id)
    assert data["status"] == final
    assert data["outcome"] is None and data["recording"] is None and data["startedAt"] is None
    assert data["completedAt"] is not None


def test_speed_makes_a_two_minute_call_last_two_real_seconds(
    start: Start, clock: FakeClock
) -> None:
    always_answered = {NUMBER: "completed"}
    sim, http = start(
        speed=60.0, queue_s=0, ring_s=0, talk_s=(120.0, 120.0), outcome_by_number=always_answered
    )
    call_id = post_call(http).json()["data"]["callId"]
    clock.advance(1.9)
    assert sim.status_of(call_id) is CallStatus.IN_PROGRESS
    clock.advance(0.2)
    assert sim.status_of(call_id) is CallStatus.COMPLETED


def test_outcomes_are_seeded(start: Start) -> None:
    def run(seed: int) -> list[tuple[str, CallStatus]]:
        sim, http = start(seed=seed, queue_s=0, ring_s=0, talk_s=(0.0, 0.0))
        ids = [post_call(http).json()["data"]["callId"] for _ in range(20)]
        return [(call_id, sim.status_of(call_id)) for call_id in ids]

    first, again = run(seed=7), run(seed=7)
    assert [s for _, s in first] == [s for _, s in again]
    assert [s for _, s in first] != [s for _, s in run(seed=8)]
    assert len({status for _, status in first}) > 1  # the weights do spread the outcomes
    # ids are the API's: unique across runs and restarts, whatever the seed
    assert not {c for c, _ in first} & {c for c, _ in again}


# --- the documented shapes ---


def test_a_created_call_has_the_documented_shape(http: TestClient) -> None:
    response = post_call(http, variables={"customerName": "John Doe"})
    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True
    data = body["data"]
    assert set(data) == {"callId", "status", "toNumber", "agentId", "createdAt"}
    assert data["callId"].startswith("call_") and data["status"] == "queued"
    assert datetime.strptime(data["createdAt"], "%Y-%m-%dT%H:%M:%S.%fZ")


def test_the_call_list_is_newest_first_paginated_and_capped_at_100(http: TestClient) -> None:
    ids = [post_call(http).json()["data"]["callId"] for _ in range(5)]
    page2 = http.get("calls", params={"page": 2, "limit": 2}, headers=AUTH).json()
    assert [call["callId"] for call in page2["data"]] == [ids[2], ids[1]]
    assert page2["pagination"] == {"page": 2, "per_page": 2, "total": 5}
    big = http.get("calls", params={"limit": 500}, headers=AUTH).json()
    assert big["pagination"]["per_page"] == 100
    assert http.get("calls", params={"page": 0}, headers=AUTH).status_code == 400


def test_agents_and_credits(http: TestClient) -> None:
    agents = http.get("agents", headers=AUTH).json()["data"]
    assert {"agentId": "agent_paused", "name": "Paused agent", "status": "paused"} in agents
    agent = http.get("agents/agent_demo", headers=AUTH).json()["data"]
    assert agent["status"] == "active"
    assert http.get("agents/agent_nope", headers=AUTH).status_code == 404
    before = http.get("credits", headers=AUTH).json()["data"]
    post_call(http)
    after = http.get("credits", headers=AUTH).json()["data"]
    assert set(after) == {"balance", "currency", "lastUpdated"}
    assert after["balance"] == before["balance"] - 1


def test_no_credits_no_call(start: Start) -> None:
    _, http = start(credits_balance=1.0)
    assert post_call(http).status_code == 201
    response = post_call(http)
    assert response.status_code == 402
    assert "credits" in response.json()["error"]


# --- validation and auth ---


@pytest.mark.parametrize(
    ("body", "status_code"),
    [
        ({"agentId": None}, 400),
        ({"toNumber": "4155551234"}, 400),
        ({"toNumber": "+0123456789"}, 400),
        ({"toNumber": "+1415"}, 400),
        ({"variables": ["a"]}, 400),
        ({"variables": {"count": 3}}, 400),
        ({"agentId": "agent_unknown"}, 404),
        ({"agentId": "agent_paused"}, 400),
    ],
)
def test_invalid_calls_are_refused_with_a_json_error(
    http: TestClient, body: dict[str, Any], status_code: int
) -> None:
    response = post_call(http, **body)
    assert response.status_code == status_code
    assert response.json()["success"] is False
    assert isinstance(response.json()["error"], str)


def test_a_body_that_is_not_an_object_is_refused(http: TestClient) -> None:
    response = http.post("calls", content=b"[1]", headers=AUTH)
    assert response.status_code == 400


def test_accept_any_agent(start: Start) -> None:
    _, http = start(accept_any_agent=True)
    assert post_call(http, agentId="agent_anything").status_code == 201


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {KEY}"}],
)
def test_a_wrong_or_missing_key_is_401(http: TestClient, headers: dict[str, str]) -> None:
    response = http.get("credits", headers=headers)
    assert response.status_code == 401
    assert response.json()["success"] is False


def test_x_api_key_works_too(http: TestClient) -> None:
    assert http.get("credits", headers={"X-API-Key": KEY}).status_code == 200


def test_without_a_configured_key_any_non_empty_key_is_accepted(clock: FakeClock) -> None:
    sim = create_simulator(SimulatorConfig(), clock)
    http = TestClient(sim.app, base_url="http://sim/api/v1/")
    assert http.get("credits", headers={"Authorization": "Bearer whatever"}).status_code == 200
    assert http.get("credits", headers={"Authorization": "Bearer "}).status_code == 401


# --- quotas ---


def test_the_call_quota_answers_429_with_the_documented_headers(
    start: Start, clock: FakeClock
) -> None:
    _, http = start(call_limit=Rate(3, 60))
    assert [post_call(http).status_code for _ in range(4)] == [201, 201, 201, 429]
    refused = post_call(http)
    assert refused.headers["X-RateLimit-Limit"] == "3"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert refused.headers["X-RateLimit-Reset"] == "1700000040"  # the minute window's end
    assert "Retry-After" not in refused.headers
    other_key = {"Authorization": "Bearer agl_sk_other"}
    assert http.get("credits", headers=other_key).status_code == 401  # the key is enforced
    clock.t = 1_700_000_040.0
    assert post_call(http).status_code == 201


def test_the_call_quota_is_per_key(clock: FakeClock) -> None:
    sim = create_simulator(SimulatorConfig(call_limit=Rate(1, 60)), clock)
    http = TestClient(sim.app, base_url="http://sim/api/v1/")
    body = {"agentId": "agent_demo", "toNumber": NUMBER}
    for key in ("key_a_12345678", "key_b_12345678"):
        headers = {"Authorization": f"Bearer {key}"}
        assert http.post("calls", json=body, headers=headers).status_code == 201
        assert http.post("calls", json=body, headers=headers).status_code == 429


def test_the_request_quota_counts_every_request(start: Start) -> None:
    _, http = start(request_limit=Rate(3, 3600))
    post_call(http)
    http.get("agents", headers=AUTH)
    assert http.get("credits", headers=AUTH).status_code == 200
    refused = http.get("credits", headers=AUTH)
    assert refused.status_code == 429
    assert refused.headers["X-RateLimit-Limit"] == "3"
    assert int(refused.headers["X-RateLimit-Reset"]) % 3600 == 0


def test_quotas_can_be_turned_off(http: TestClient) -> None:
    assert all(post_call(http).status_code == 201 for _ in range(150))


# --- faults ---


@pytest.mark.parametrize(
    ("fault", "status_code"), [(Fault.THROTTLE, 429), (Fault.ERROR_BEFORE_CREATE, 500)]
)
def test_faults_before_create_create_nothing(start: Start, fault: Fault, status_code: int) -> None:
    sim, http = start()
    sim.force(fault, times=2)
    assert [post_call(http).status_code for _ in range(3)] == [status_code, status_code, 201]
    assert len(sim.audit()) == 1


def test_a_spurious_429_looks_like_the_quota_s_own(start: Start) -> None:
    _, http = start(p_429=1.0)
    refused = post_call(http)
    assert refused.status_code == 429
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert "Retry-After" not in refused.headers


def test_flaky_gets_answer_5xx_by_seeded_probability(start: Start) -> None:
    def codes(seed: int) -> list[int]:
        _, http = start(p_flaky_get=0.5, seed=seed)
        return [http.get("credits", headers=AUTH).status_code for _ in range(30)]

    first = codes(seed=1)
    assert first == codes(seed=1)
    assert set(first) == {200, 500, 503}


def test_faults_can_be_forced_over_http(start: Start) -> None:
    _, http = start()
    forced = http.post("http://sim/_sim/faults", json={"fault": "flaky_get", "times": 1})
    assert forced.status_code == 200
    assert http.get("credits", headers=AUTH).status_code in (500, 503)
    assert http.get("credits", headers=AUTH).status_code == 200
    assert http.post("http://sim/_sim/faults", json={"fault": "nope"}).status_code == 400


# --- audit and stats ---


def test_audit_and_stats_in_process_and_over_http(http: TestClient, clock: FakeClock) -> None:
    call_id = post_call(http).json()["data"]["callId"]
    http.get(f"calls/{call_id}", headers=AUTH)
    http.get(f"calls/{call_id}", headers=AUTH)
    http.get("calls", headers=AUTH)
    audit = http.get("http://sim/_sim/audit").json()
    assert audit == [
        {"call_id": call_id, "to_number": NUMBER, "agent_id": "agent_abc123", "created_s": clock.t}
    ]
    stats = http.get("http://sim/_sim/stats").json()
    assert stats == {
        "requests": {"POST /calls": 1, "GET /calls/{id}": 2, "GET /calls": 1},
        "total": 4,
        "calls": 1,
    }
