"""The Voxpria client: classification and parsing on httpx.MockTransport, then against the
simulator over real HTTP."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import partial
from typing import Any

import httpx
import pytest

from dialer.clock import FakeClock
from dialer.errors import ApiUnavailable, AuthError, NotFoundError
from dialer.settings import Rate, Secret
from dialer.simulator.faults import Fault
from dialer.voxpria.client import Timeouts, VoxpriaClient
from dialer.voxpria.models import Ambiguous, CallStatus, Created, NotSent, Rejected, Throttled
from tests.simulator_server import SimulatorHandle, running_simulator

KEY = "agl_sk_test_0123456789abcdef"
BASE_URL = "https://voxpria.test/api/v1"
NOW = 1_700_000_000.0
NUMBER = "+14155551234"
CREATED = {"success": True, "data": {"callId": "call_1", "status": "queued"}}
Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport handler that answers from a script and keeps the requests it saw."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def mock_client(handler: Handler, clock: FakeClock | None = None, **kwargs: Any) -> VoxpriaClient:
    transport = httpx.MockTransport(handler)
    clock = clock or FakeClock(NOW)
    return VoxpriaClient(BASE_URL, Secret(KEY), transport=transport, clock=clock, **kwargs)


def answer(status_code: int, body: Any = None, **kwargs: Any) -> httpx.Response:
    if isinstance(body, str):
        return httpx.Response(status_code, text=body, **kwargs)
    return httpx.Response(status_code, json=body, **kwargs)


def post(*answers: httpx.Response | Exception) -> Any:
    return mock_client(Recorder(*answers)).create_call("agent_abc123", NUMBER, {})


# --- POST /calls: the request, and how each answer is classified ---


def test_create_call_sends_the_documented_request() -> None:
    recorder = Recorder(answer(201, CREATED))
    kinds: list[str] = []
    client = mock_client(recorder, before_request=kinds.append)
    client.create_call("agent_abc123", NUMBER, {"customerName": "John Doe"})
    (request,) = recorder.requests
    assert (request.method, str(request.url)) == ("POST", f"{BASE_URL}/calls")
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.headers["Content-Type"] == "application/json"
    assert httpx.Response(200, content=request.content).json() == {
        "agentId": "agent_abc123",
        "toNumber": NUMBER,
        "variables": {"customerName": "John Doe"},
    }
    assert kinds == ["call"]


@pytest.mark.parametrize(
    "body",
    [
        CREATED,
        {"data": {"callId": "call_1"}},  # `success` left out
        {"success": True, "data": {"id": "call_1"}},  # `id` for `callId`
        {"callId": "call_1"},  # no envelope
    ],
)
def test_a_2xx_with_a_call_id_is_created(body: Any) -> None:
    outcome = post(answer(201, body))
    assert isinstance(outcome, Created)
    assert outcome.call.call_id == "call_1"


@pytest.mark.parametrize(
    "response",
    [
        answer(200, {"success": True, "data": {}}),
        answer(200, {"success": True}),
        answer(200, "<html>ok</html>"),
        answer(500, {"error": "boom"}),
        answer(502, "Bad Gateway"),
        answer(503),
    ],
)
def test_a_5xx_or_a_2xx_without_a_call_id_is_ambiguous(response: httpx.Response) -> None:
    assert isinstance(post(response), Ambiguous)


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (answer(400, {"success": False, "error": "toNumber is invalid"}), "toNumber is invalid"),
        (answer(422, {"message": "bad agent"}), "bad agent"),
        (answer(422, {"errors": [{"msg": "a"}, {"message": "b"}]}), "a; b"),
        (answer(404, "no such agent\n"), "no such agent"),
        (answer(402), "Payment Required"),
        (answer(200, {"success": False, "error": "no credits"}), "no credits"),
    ],
)
def test_a_4xx_is_rejected_with_the_api_s_message(response: httpx.Response, message: str) -> None:
    outcome = post(response)
    assert isinstance(outcome, Rejected)
    assert outcome.message == message
    assert outcome.status_code == response.status_code


def test_a_long_api_message_is_truncated() -> None:
    outcome = post(answer(400, {"error": "x" * 5000}))
    assert isinstance(outcome, Rejected)
    assert len(outcome.message) <= 300


@pytest.mark.parametrize(
    "error",
    [httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"), httpx.PoolTimeout("busy")],
)
def test_errors_before_sending_are_not_sent(error: Exception) -> None:
    assert isinstance(post(error), NotSent)


@pytest.mark.parametrize(
    "error",
    [
        httpx.ReadTimeout("slow"),
        httpx.WriteTimeout("slow"),
        httpx.RemoteProtocolError("peer closed connection"),
        httpx.ReadError("reset by peer"),
        httpx.WriteError("broken pipe"),
    ],
)
def test_errors_after_sending_are_ambiguous(error: Exception) -> None:
    assert isinstance(post(error), Ambiguous)


def test_a_post_is_never_retried() -> None:
    recorder = Recorder(answer(503), answer(201, CREATED))
    outcome = mock_client(recorder).create_call("agent_abc123", NUMBER, {})
    assert isinstance(outcome, Ambiguous)
    assert len(recorder.requests) == 1


def test_a_401_raises_auth_error_that_says_what_to_do() -> None:
    with pytest.raises(AuthError, match="VOXPRIA_API_KEY"):
        post(answer(401, {"success": False, "error": "Invalid API key"}))


@pytest.mark.parametrize(
    ("headers", "retry_at"),
    [
        ({"Retry-After": "30"}, NOW + 30),
        ({"Retry-After": format_datetime(datetime.fromtimestamp(NOW + 90, UTC), usegmt=True)},
         NOW + 90),
        ({"X-RateLimit-Reset": str(int(NOW + 42))}, NOW + 42),
        ({"X-RateLimit-Reset": str(int((NOW + 42) * 1000))}, NOW + 42),  # epoch ms
        ({"X-RateLimit-Reset": "17"}, NOW + 17),  # seconds from now
        ({"X-RateLimit-Reset": "soon"}, NOW + 60),
        ({}, NOW + 60),
    ],
)  # fmt: skip
def test_a_429_is_throttled_until_the_reset(headers: dict[str, str], retry_at: float) -> None:
    outcome = post(answer(429, {"success": False}, headers=headers))
    assert isinstance(outcome, Throttled)
    assert outcome.retry_at == pytest.approx(retry_at)


# --- GETs: retries, with a recording fake sleep ---


def test_a_get_retries_5xx_and_connect_errors_with_backoff() -> None:
    call = {"success": True, "data": {"callId": "call_1", "status": "ringing"}}
    recorder = Recorder(answer(503), httpx.ConnectError("refused"), answer(200, call))
    clock = FakeClock(NOW)
    kinds: list[str] = []
    client = mock_client(recorder, clock, before_request=kinds.append)
    assert client.get_call("call_1").status is CallStatus.RINGING
    assert len(recorder.requests) == 3
    assert kinds == ["read"] * 3  # the pacing hook sees every attempt
    assert len(clock.sleeps) == 2
    assert all(0 <= wait_s <= 30 for wait_s in clock.sleeps)


def test_a_429_on_a_get_waits_until_the_reset() -> None:
    throttled = answer(429, headers={"X-RateLimit-Reset": str(int(NOW + 42))})
    recorder = Recorder(throttled, answer(200, {"success": True, "data": []}))
    clock = FakeClock(NOW)
    mock_client(recorder, clock).list_agents()
    assert clock.sleeps == [42.0]


def test_a_get_that_keeps_failing_raises_api_unavailable() -> None:
    recorder = Recorder(answer(503))
    clock = FakeClock(NOW)
    with pytest.raises(ApiUnavailable, match="VOXPRIA_BASE_URL") as raised:
        mock_client(recorder, clock, get_attempts=4).get_credits()
    assert "GET /credits" in str(raised.value) and "HTTP 503" in str(raised.value)
    assert len(recorder.requests) == 4
    assert len(clock.sleeps) == 3


def test_a_401_on_a_get_is_not_retried() -> None:
    recorder = Recorder(answer(401))
    clock = FakeClock(NOW)
    with pytest.raises(AuthError):
        mock_client(recorder, clock).get_call("call_1")
    assert len(recorder.requests) == 1 and clock.sleeps == []


def test_an_unknown_agent_is_not_found_by_name() -> None:
    with pytest.raises(NotFoundError, match="agent_nope"):
        mock_client(Recorder(answer(404))).get_agent("agent_nope")


# --- parsing, tolerantly ---


def test_a_call_is_parsed_from_either_vocabulary() -> None:
    body = {
        "data": {
            "id": "call_9",
            "phoneNumber": NUMBER,
            "status": "No-Answer",
            "duration": "127",
            "summary": "left a message",
        }
    }
    call = mock_client(Recorder(answer(200, body))).get_call("call_9")
    assert (call.call_id, call.to_number, call.status) == ("call_9", NUMBER, CallStatus.NO_ANSWER)
    assert call.duration_s == 127.0 and call.transcript == "left a message"


def test_an_unknown_status_reads_as_none() -> None:
    body = {"data": {"callId": "call_9", "status": "teleported", "duration": "n/a"}}
    call = mock_client(Recorder(answer(200, body))).get_call("call_9")
    assert call.status is None and call.duration_s is None


def test_agents_and_credits_are_parsed() -> None:
    agents = {"data": [{"agentId": "a1", "name": "A", "status": "active"}, {"id": "a2"}, "junk"]}
    client = mock_client(Recorder(answer(200, agents)))
    assert [agent.agent_id for agent in client.list_agents()] == ["a1", "a2"]
    client = mock_client(Recorder(answer(200, {"data": {"balance": "12.5", "currency": "USD"}})))
    credits = client.get_credits()
    assert (credits.balance, credits.currency) == (12.5, "USD")


def pages_of(shape: Callable[[list[dict[str, str]]], Any], total: int) -> Recorder:
    """A call list of `total` calls served 2 a page in `shape`."""
    calls = [{"callId": f"call_{n}"} for n in range(total)]
    recorder = Recorder(answer(200))

    def serve(request: httpx.Request) -> httpx.Response:
        recorder.requests.append(request)
        page = int(request.url.params["page"])
        limit = int(request.url.params["limit"])
        return answer(200, shape(calls[(page - 1) * limit : page * limit]))

    recorder.__call__ = serve  # type: ignore[method-assign]
    return recorder


@pytest.mark.parametrize(
    "shape",
    [
        lambda calls: {"success": True, "data": calls},
        lambda calls: {"data": {"calls": calls}},
        lambda calls: {"data": {"items": calls}},
        lambda calls: {"data": {"results": calls}},
        lambda calls: {"data": {"data": calls}},
        lambda calls: calls,
    ],
)
def test_list_calls_reads_every_shape_and_stops_at_a_short_page(shape: Any) -> None:
    recorder = pages_of(shape, total=5)
    client = mock_client(recorder.__call__)
    assert [call.call_id for call in client.list_calls(limit=2)] == [f"call_{n}" for n in range(5)]
    assert len(recorder.requests) == 3


def test_list_calls_stops_at_an_empty_page_or_the_total() -> None:
    recorder = pages_of(lambda calls: {"data": calls}, total=4)
    assert len(list(mock_client(recorder.__call__).list_calls(limit=2))) == 4
    assert len(recorder.requests) == 3  # the third page was empty
    with_total = pages_of(lambda calls: {"data": calls, "pagination": {"total": 4}}, total=4)
    assert len(list(mock_client(with_total.__call__).list_calls(limit=2))) == 4
    assert len(with_total.requests) == 2


def test_list_calls_honours_max_pages_and_caps_the_limit() -> None:
    recorder = pages_of(lambda calls: {"data": calls}, total=500)
    calls = list(mock_client(recorder.__call__).list_calls(limit=1000, max_pages=2))
    assert len(calls) == 200
    assert [r.url.params["limit"] for r in recorder.requests] == ["100", "100"]


# --- the key never shows ---


def test_the_api_key_appears_in_no_log_message_or_repr(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    echo = {"success": False, "error": f"invalid key {KEY}"}  # an API that echoes the key
    texts: list[str] = []
    for response in [answer(401, echo), answer(400, echo), answer(503, echo), answer(429)]:
        client = mock_client(Recorder(response), get_attempts=2)
        texts.append(repr(client) + str(client))
        for attempt in (partial(client.create_call, "a", NUMBER, {}), client.list_agents):
            try:
                texts.append(repr(attempt()))
            except Exception as exc:  # every error the client raises, of every kind
                texts += [str(exc), repr(exc), str(exc.__cause__), repr(exc.__cause__)]
    texts += [record.getMessage() for record in caplog.records]
    assert any("/calls" in record.getMessage() for record in caplog.records)
    assert any("refused the API key" in text for text in texts)
    assert any("unreachable" in text for text in texts)
    assert any("********" in text for text in texts)  # the echoed key, blanked out
    assert not [text for text in texts if KEY in text]


# --- against the simulator, over real HTTP ---


@pytest.fixture
def client(simulator: SimulatorHandle, api_key: str) -> Iterator[VoxpriaClient]:
    with VoxpriaClient(simulator.base_url, Secret(api_key)) as client:
        yield client


def test_the_docs_curl_examples_return_the_documented_shapes(
    simulator: SimulatorHandle, api_key: str
) -> None:
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
    with httpx.Client(base_url=simulator.base_url, headers=headers) as http:
        variables = {"customerName": "John Doe", "accountNumber": "12345"}
        body = {"agentId": "agent_abc123", "toNumber": NUMBER, "variables": variables}
        created = http.post("/calls", json=body).json()
        assert set(created) == {"success", "data"}
        assert set(created["data"]) == {"callId", "status", "toNumber", "agentId", "createdAt"}
        details = http.get(f"/calls/{created['data']['callId']}").json()
        assert set(details["data"]) >= {
            "callId", "status", "duration", "recording", "transcript", "outcome",
            "startedAt", "completedAt",
        }  # fmt: skip
        listed = http.get("/calls", params={"page": 1, "limit": 50}).json()
        assert set(listed) == {"success", "data", "pagination"}
        assert set(listed["pagination"]) == {"page", "per_page", "total"}
        assert listed["data"][0]["callId"] == created["data"]["callId"]


@pytest.mark.integration
def test_a_call_is_created_and_followed_to_its_end() -> None:
    clock = FakeClock(NOW)
    with (
        running_simulator(clock=clock, outcome_by_number={NUMBER: "completed"}) as sim,
        VoxpriaClient(sim.base_url, Secret(KEY)) as client,
    ):
        outcome = client.create_call("agent_abc123", NUMBER, {"customerName": "Ada"})
        assert isinstance(outcome, Created)
        assert outcome.call.status is CallStatus.QUEUED
        clock.advance(3600)
        call = client.get_call(outcome.call.call_id)
        assert call.status is CallStatus.COMPLETED and call.outcome == "successful"
        assert call.duration_s and call.recording and call.transcript and call.completed_at
        assert [c.call_id for c in client.list_calls()] == [call.call_id]


def test_a_bad_number_is_rejected(client: VoxpriaClient, simulator: SimulatorHandle) -> None:
    outcome = client.create_call("agent_abc123", "+1415", {})
    assert isinstance(outcome, Rejected) and outcome.status_code == 400
    assert "E.164" in outcome.message
    assert simulator.sim.audit() == []


def test_nothing_listening_is_not_sent() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # the port is free again: nothing listens there
    with VoxpriaClient(f"http://127.0.0.1:{port}/api/v1", Secret(KEY)) as client:
        assert isinstance(client.create_call("agent_abc123", NUMBER, {}), NotSent)


@pytest.mark.integration
def test_the_call_quota_throttles_until_its_reset() -> None:
    clock = FakeClock(NOW + 15)
    with (
        running_simulator(clock=clock, call_limit=Rate(1, 60)) as sim,
        VoxpriaClient(sim.base_url, Secret(KEY), clock=clock) as client,
    ):
        assert isinstance(client.create_call("agent_abc123", NUMBER, {}), Created)
        outcome = client.create_call("agent_abc123", NUMBER, {})
        assert isinstance(outcome, Throttled)
        assert outcome.retry_at == NOW + 60 - NOW % 60  # the X-RateLimit-Reset of the window


def test_a_5xx_before_creating_is_ambiguous(
    client: VoxpriaClient, simulator: SimulatorHandle
) -> None:
    simulator.sim.force(Fault.ERROR_BEFORE_CREATE)
    assert isinstance(client.create_call("agent_abc123", NUMBER, {}), Ambiguous)
    assert simulator.sim.audit() == []


def test_a_lost_answer_is_ambiguous_though_the_call_exists(
    client: VoxpriaClient, simulator: SimulatorHandle
) -> None:
    simulator.sim.force(Fault.LOST_AFTER_CREATE)
    outcome = client.create_call("agent_abc123", NUMBER, {})
    assert isinstance(outcome, Ambiguous)
    assert "RemoteProtocolError" in outcome.reason
    assert [entry.to_number for entry in simulator.sim.audit()] == [NUMBER]  # created, once
    assert simulator.sim.stats() == {"POST /calls": 1}  # and not retried


@pytest.mark.integration
def test_a_slow_answer_is_ambiguous_though_the_call_exists(api_key: str) -> None:
    with (
        running_simulator(api_key=Secret(api_key), p_slow_after_create=1.0, slow_s=5.0) as sim,
        VoxpriaClient(sim.base_url, Secret(api_key), timeouts=Timeouts(read_s=0.2)) as client,
    ):
        outcome = client.create_call("agent_abc123", NUMBER, {})
        assert isinstance(outcome, Ambiguous) and "ReadTimeout" in outcome.reason
        assert len(sim.sim.audit()) == 1
        assert sim.sim.stats() == {"POST /calls": 1}


def test_a_wrong_key_raises_auth_error(simulator: SimulatorHandle) -> None:
    with VoxpriaClient(simulator.base_url, Secret("agl_sk_wrong")) as client:
        with pytest.raises(AuthError):
            client.create_call("agent_abc123", NUMBER, {})
        with pytest.raises(AuthError):
            client.get_credits()


def test_agents_and_credits_over_http(client: VoxpriaClient) -> None:
    assert not client.get_agent("agent_paused").is_active
    with pytest.raises(NotFoundError, match="agent_nope"):
        client.get_agent("agent_nope")
    before = client.get_credits().balance
    client.create_call("agent_demo", NUMBER, {})
    assert client.get_credits().balance == (before or 0) - 1


def test_flaky_gets_are_retried_over_http(simulator: SimulatorHandle, api_key: str) -> None:
    clock = FakeClock(NOW)
    simulator.sim.force(Fault.FLAKY_GET, times=2)
    with VoxpriaClient(simulator.base_url, Secret(api_key), clock=clock) as client:
        assert client.list_agents()
    assert len(clock.sleeps) == 2
    assert simulator.sim.stats() == {"GET /agents": 3}
