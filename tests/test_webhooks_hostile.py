"""The webhook receiver attacked as a stranger would (issue 15): every malformed header or body
is a 400/401 (or the HTTP layer's own 4xx), never a 500 or a traceback; a stranger's body is
never parsed before its signature is checked; and no event field can forge a log line.

Before the fix: an unsigned, deeply nested JSON body and a scheme B `t=` of 5,000 digits each
made the receiver answer 500 and log a traceback; a `call.completed` carrying a non-final status
made the real one a duplicate (the call stayed active).
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from campaigns.store.rows import RowStatus
from campaigns.store.sqlite_store import SqliteStore
from dialer.clock import SystemClock
from dialer.receiver import WEBHOOK_PATH, create_webhook_app, running_webhook_server
from dialer.voxpria.signatures import HEADER_A, HEADER_B, Scheme, SignatureVerifier, sign_a
from tests.engine_support import CID
from tests.test_webhooks_receiver import (
    SECRET,
    TOLERANCE_S,
    Receiver,
    compact,
    signed,
)
from tests.test_webhooks_support import call_event, live_calls

pytestmark = pytest.mark.integration

DEEP = b"[" * 3000 + b"]" * 3000  # past json's recursion limit: a RecursionError when parsed
DEEP_OBJECT = b'{"a":' * 1500 + b"1" + b"}" * 1500


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    store = SqliteStore(tmp_path / "state.sqlite")
    call_ids = live_calls(store, n=4)
    clock = SystemClock()
    verifier = SignatureVerifier(SECRET, TOLERANCE_S, clock)
    # the real cap: a hostile body may be as large as the receiver takes
    app = create_webhook_app(store, verifier, clock)
    with running_webhook_server(app) as root_url:
        r = Receiver(root_url + WEBHOOK_PATH, store, call_ids)
        yield r
        r.http.close()
    store.close()


def _no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.exc_info], caplog.text
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT, b"[" * 200_000], ids=["array", "obj", "open"])
def test_an_unsigned_deeply_nested_body_is_401_not_500(
    receiver: Receiver, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    for headers in ({HEADER_A: "sha256=" + "0" * 64}, {}, {HEADER_B: "t=1,v1=00"}):
        assert receiver.post(body, headers).status_code == 401
    _no_traceback(caplog)


@pytest.mark.parametrize(
    "body", [DEEP, DEEP_OBJECT, b'{"event":"call.completed","n":' + b"9" * 5000 + b"}"]
)
def test_a_signed_hostile_body_is_400_not_500(
    receiver: Receiver, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    for scheme in Scheme:
        assert receiver.post(body, signed(body, scheme)).status_code == 400
    _no_traceback(caplog)


@pytest.mark.parametrize(
    "header",
    [
        "t=" + "9" * 5000 + ",v1=" + "0" * 64,  # int() refuses past 4,300 digits
        "t=" + "1" * 13 + ",v1=" + "0" * 64,
        "t=²,v1=00",  # str.isdigit() says yes, int() says no
        "t=١٧٠٠٠٠٠٠٠٠,v1=00",  # Arabic-Indic digits: int() reads them
        "t=-5,v1=00",
        "t=,v1=",
        "t=1,t=2,v1=00",
        ",,,,=,=,",
        "t=1700000000," + ",".join(["v1=" + "0" * 64] * 200),
    ],
)
def test_a_malformed_scheme_b_header_is_401(
    receiver: Receiver, header: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = compact(call_event("call.failed", receiver.call_ids[0]))
    answer = receiver.post(body, {HEADER_B: header.encode("utf-8")})  # type: ignore[dict-item]
    assert answer.status_code == 401
    assert receiver.status(0) is RowStatus.ACTIVE
    _no_traceback(caplog)


def test_signature_headers_in_bad_encodings_are_401(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    body = compact(call_event("call.failed", receiver.call_ids[0]))
    for raw in (b"sha256=\xff\xfe\x80", b"\xc3\x28", "sha256=é".encode("latin-1")):
        assert receiver.post(body, {HEADER_A: raw}).status_code == 401  # type: ignore[dict-item]
        assert receiver.post(body, {HEADER_B: raw}).status_code == 401  # type: ignore[dict-item]
    _no_traceback(caplog)


def _raw_request(url: str, head: bytes, body: bytes = b"") -> int:
    """The status code of a hand-made HTTP/1.1 request (for what httpx refuses to send)."""
    parsed = httpx.URL(url)
    with socket.create_connection((parsed.host, parsed.port or 80), timeout=10) as sock:
        sock.sendall(head + b"\r\n" + body)
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return int(answer.split(b" ", 2)[1])


@pytest.mark.parametrize(
    "content_length",
    [b"9" * 5000, b"\xb2", b"12abc", b"-1", b"1e3", b" "],
    ids=["5000-digits", "superscript", "letters", "negative", "float", "blank"],
)
def test_a_malformed_content_length_is_a_4xx(
    receiver: Receiver, content_length: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    head = (
        b"POST " + WEBHOOK_PATH.encode() + b" HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length: " + content_length + b"\r\n" + HEADER_A.encode() + b": sha256=00\r\n"
    )
    status = _raw_request(receiver.url, head, b"{}")
    assert 400 <= status < 500, status
    _no_traceback(caplog)


def test_huge_headers_are_refused_by_size_and_the_receiver_still_answers(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    body = compact(call_event("call.failed", receiver.call_ids[0]))
    many = {f"x-junk-{i}": "y" * 100 for i in range(2000)}
    for headers in ({HEADER_A: "sha256=" + "0" * 1_000_000}, many):
        try:
            status = receiver.post(body, headers).status_code
        except httpx.TransportError:  # the server may hang up instead of answering
            status = 431
        assert 400 <= status < 500, status
    good = receiver.post(body, signed(body, Scheme.A))
    assert good.status_code == 200 and receiver.status(0) is RowStatus.FAILED
    _no_traceback(caplog)


def test_a_non_final_status_on_call_completed_does_not_make_the_real_one_a_duplicate(
    receiver: Receiver,
) -> None:
    early = receiver.deliver(
        call_event("call.completed", receiver.call_ids[1], status="in_progress")
    )
    assert early.status_code == 200 and early.json()["result"] != "final"
    assert receiver.status(1) is RowStatus.ACTIVE
    real = receiver.deliver(call_event("call.completed", receiver.call_ids[1], status="completed"))
    assert real.json()["result"] == "final", real.text
    assert receiver.status(1) is RowStatus.COMPLETED
    again = receiver.deliver(call_event("call.completed", receiver.call_ids[1], status="completed"))
    assert again.json()["result"] == "duplicate"


def test_event_fields_cannot_forge_log_lines_or_send_escape_codes(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    forged = "call_x\n2027-01-01 00:00:00 INFO dialer.webhooks: call.completed call_1: final"
    events = [
        call_event("call.completed", forged),
        call_event("call.\x1b[2Jstarted\r\nfake", receiver.call_ids[2]),
        {"event": "credit.low\u2028x", "data": {"balance": "5\n\x1b[31mFAKE"}},
        {"event": "campaign.\x1b]0;title\x07done", "data": {}},
    ]
    for event in events:
        assert receiver.deliver(event).status_code == 200
    body = compact(call_event("call.completed", receiver.call_ids[3]))
    assert receiver.post(body, {HEADER_A: "sha256=\x1b[31mforged\x7f"}).status_code == 401
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) >= 4
    for message in messages:
        assert message.isprintable(), repr(message)
    assert any("call_x\\n2027" in message for message in messages)


def test_scheme_a_fallback_parses_only_a_body_whose_signature_can_then_be_checked(
    receiver: Receiver,
) -> None:
    """The docs' re-serialised form still verifies, nested as deep as an event ever is."""
    event = call_event("call.completed", receiver.call_ids[0], extra={"a": {"b": [[{"c": 1}]]}})
    wire = json.dumps(event, indent=2).encode()
    stringified = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
    answer = receiver.post(wire, {HEADER_A: sign_a(SECRET, stringified)})
    assert answer.status_code == 200 and receiver.status(0) is RowStatus.COMPLETED
    assert receiver.store.get_row(CID, 0) is not None
