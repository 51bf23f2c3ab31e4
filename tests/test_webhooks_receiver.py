"""The webhook receiver over real HTTP (uvicorn in a thread), on a SQLite store holding live
calls: every kind of bad delivery refused with its status code, good ones recorded once."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from campaigns.store.rows import RowStatus, RowStore
from campaigns.store.sqlite_store import SqliteStore
from dialer.clock import SystemClock
from dialer.receiver import WEBHOOK_PATH, create_webhook_app, running_webhook_server
from dialer.settings import Secret
from dialer.voxpria.signatures import HEADER_A, HEADER_B, Scheme, SignatureVerifier, sign_a, sign_b
from tests.engine_support import CID
from tests.test_webhooks_support import call_event, live_calls

pytestmark = pytest.mark.integration  # the receiver over real HTTP

SECRET = Secret("whsec_receiver_test_secret_0123456789")
TOLERANCE_S = 300
MAX_BODY_BYTES = 4096  # small, so a test need not send 256 KiB


class Receiver:
    def __init__(self, url: str, store: RowStore, call_ids: list[str]) -> None:
        self.url = url
        self.store = store
        self.call_ids = call_ids
        self.http = httpx.Client(timeout=5.0)

    def post(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return self.http.post(self.url, content=body, headers=headers)

    def deliver(
        self, event: dict[str, Any], scheme: Scheme = Scheme.A, secret: Secret = SECRET
    ) -> httpx.Response:
        body = compact(event)
        return self.post(body, signed(body, scheme, secret))

    def status(self, idx: int) -> RowStatus:
        row = self.store.get_row(CID, idx)
        assert row is not None
        return row.status


def compact(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode()


def signed(
    body: bytes, scheme: Scheme, secret: Secret = SECRET, t: float | None = None
) -> dict[str, str]:
    now = int(SystemClock().now() if t is None else t)
    if scheme is Scheme.A:
        return {HEADER_A: sign_a(secret, body), "content-type": "application/json"}
    return {HEADER_B: sign_b(secret, body, now), "content-type": "application/json"}


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    store = SqliteStore(tmp_path / "state.sqlite")
    call_ids = live_calls(store, n=4)
    clock = SystemClock()
    verifier = SignatureVerifier(SECRET, TOLERANCE_S, clock)
    app = create_webhook_app(store, verifier, clock, max_body_bytes=MAX_BODY_BYTES)
    with running_webhook_server(app) as root_url:
        r = Receiver(root_url + WEBHOOK_PATH, store, call_ids)
        yield r
        r.http.close()
    store.close()


@pytest.mark.parametrize("scheme", list(Scheme))
@pytest.mark.parametrize("style", ["callId", "id"])
def test_a_signed_final_event_is_recorded(receiver: Receiver, scheme: Scheme, style: str) -> None:
    event = call_event("call.ended", receiver.call_ids[1], style, status="busy")
    answer = receiver.deliver(event, scheme)
    assert answer.status_code == 200, answer.text
    assert answer.json()["result"] == "final"
    assert receiver.status(1) is RowStatus.BUSY


def test_scheme_a_over_a_re_serialised_body_is_accepted(receiver: Receiver) -> None:
    event = call_event("call.completed", receiver.call_ids[0], transcript="¿Sí? Gracias")
    wire = json.dumps(event, indent=2).encode()  # not the bytes that were signed
    stringified = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
    answer = receiver.post(wire, {HEADER_A: sign_a(SECRET, stringified)})
    assert answer.status_code == 200, answer.text
    assert receiver.status(0) is RowStatus.COMPLETED


def test_a_duplicate_delivery_changes_nothing(receiver: Receiver) -> None:
    event = call_event("call.completed", receiver.call_ids[2], duration=61)
    assert receiver.deliver(event).json()["result"] == "final"
    before = receiver.store.get_row(CID, 2)
    again = receiver.deliver(event, Scheme.B)
    assert again.status_code == 200 and again.json()["result"] == "duplicate"
    assert receiver.store.get_row(CID, 2) == before


def test_an_unknown_call_is_acknowledged_and_dropped(receiver: Receiver) -> None:
    answer = receiver.deliver(call_event("call.completed", "call_of_another_tool"))
    assert answer.status_code == 200 and answer.json()["result"] == "unknown_call"
    assert {receiver.status(i) for i in range(4)} == {RowStatus.ACTIVE}


def test_a_forged_signature_is_401(receiver: Receiver) -> None:
    event = call_event("call.completed", receiver.call_ids[0])
    for scheme in Scheme:
        answer = receiver.deliver(event, scheme, secret=Secret("whsec_guessed"))
        assert answer.status_code == 401
    assert receiver.status(0) is RowStatus.ACTIVE


def test_a_tampered_body_is_401(receiver: Receiver) -> None:
    body = compact(call_event("call.failed", receiver.call_ids[0]))
    tampered = body.replace(b"call.failed", b"call.ended")
    assert receiver.post(tampered, signed(body, Scheme.A)).status_code == 401
    assert receiver.post(tampered, signed(body, Scheme.B)).status_code == 401
    assert receiver.status(0) is RowStatus.ACTIVE


def test_a_missing_signature_is_401(receiver: Receiver) -> None:
    body = compact(call_event("call.failed", receiver.call_ids[0]))
    assert receiver.post(body, {"content-type": "application/json"}).status_code == 401


def test_a_replay_too_late_is_401(receiver: Receiver) -> None:
    """A genuine scheme B delivery, captured and sent again past the tolerance."""
    body = compact(call_event("call.failed", receiver.call_ids[3]))
    late = SystemClock().now() - TOLERANCE_S - 60
    answer = receiver.post(body, signed(body, Scheme.B, t=late))
    assert answer.status_code == 401
    assert receiver.status(3) is RowStatus.ACTIVE


def test_an_oversized_body_is_413_by_its_length_or_by_what_arrives(receiver: Receiver) -> None:
    event = call_event("call.completed", receiver.call_ids[0], transcript="x" * MAX_BODY_BYTES)
    body = compact(event)
    assert receiver.post(body, signed(body, Scheme.A)).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        yield body[:1000]
        yield body[1000:]

    answer = receiver.http.post(receiver.url, content=chunks(), headers=signed(body, Scheme.A))
    assert answer.status_code == 413
    assert receiver.status(0) is RowStatus.ACTIVE


@pytest.mark.parametrize(
    "body",
    [
        b"not json at all",
        b'{"event": "call.completed", "data": {"callId": ',
        b'["call.completed"]',
        b'{"data": {"callId": "call_0"}}',
        b'{"event": "call.completed", "data": {"status": "completed"}}',
        b"\xff\xfe\x00garbage",
    ],
)
def test_a_signed_malformed_body_is_400(receiver: Receiver, body: bytes) -> None:
    assert receiver.post(body, signed(body, Scheme.A)).status_code == 400


def test_an_unsigned_malformed_body_is_401_not_400(receiver: Receiver) -> None:
    """Nobody learns anything about the parser without the secret."""
    assert receiver.post(b"not json", {HEADER_A: "sha256=00"}).status_code == 401


@pytest.mark.parametrize("event", ["credit.low", "campaign.completed", "call.started"])
def test_every_documented_event_is_acknowledged(receiver: Receiver, event: str) -> None:
    body = {"event": event, "timestamp": "2027-01-15T08:00:00Z", "data": {"balance": 5}}
    if event.startswith("call."):
        body = call_event(event, receiver.call_ids[0], status="ringing")
    assert receiver.deliver(body).status_code == 200


def test_the_secret_never_shows_in_answers_or_logs(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    event = call_event("call.completed", receiver.call_ids[0])
    answers = [
        receiver.deliver(event, secret=Secret("whsec_wrong")),
        receiver.post(b"junk", signed(b"junk", Scheme.A)),
        receiver.deliver(event, Scheme.B),
        receiver.http.get(receiver.url.replace(WEBHOOK_PATH, "/healthz")),
    ]
    seen = caplog.text + "".join(a.text + str(a.headers) for a in answers)
    assert SECRET.reveal() not in seen
    assert [a.status_code for a in answers] == [401, 400, 200, 200]


def test_a_store_that_fails_answers_500_so_voxpria_retries(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.sqlite")
    call_ids = live_calls(store, n=1)
    clock = SystemClock()
    app = create_webhook_app(store, SignatureVerifier(SECRET, TOLERANCE_S, clock), clock)
    store.close()  # every store call now fails
    with running_webhook_server(app) as root_url, httpx.Client() as http:
        body = compact(call_event("call.completed", call_ids[0]))
        answer = http.post(root_url + WEBHOOK_PATH, content=body, headers=signed(body, Scheme.A))
    assert answer.status_code == 500
