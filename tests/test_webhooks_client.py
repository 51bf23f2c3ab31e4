"""The client's webhook calls on httpx.MockTransport: tolerant parsing, one POST only, errors
that say what to do, and a secret that never shows."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from dialer.clock import FakeClock
from dialer.errors import ApiError, ApiUnavailable, AuthError
from dialer.settings import Secret
from dialer.voxpria.client import VoxpriaClient
from dialer.voxpria.wire import parse_webhook

KEY = "agl_sk_test_0123456789abcdef"
SECRET = "whsec_c2VjcmV0IHNob3duIG9uY2U"
URL = "https://hooks.example.com/webhooks/voxpria"


def client_answering(*answers: httpx.Response | Exception) -> tuple[VoxpriaClient, list[Any]]:
    seen: list[httpx.Request] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    client = VoxpriaClient(
        "https://voxpria.test/api/v1",
        Secret(KEY),
        transport=httpx.MockTransport(handler),
        clock=FakeClock(),
    )
    return client, seen


def test_create_webhook_posts_url_events_active_and_reads_the_secret() -> None:
    data = {"webhookId": "wh_1", "url": URL, "events": ["call.completed"], "secret": SECRET}
    client, seen = client_answering(httpx.Response(201, json={"success": True, "data": data}))
    webhook = client.create_webhook(URL, ["call.completed"])
    assert json.loads(seen[0].content) == {"url": URL, "events": ["call.completed"], "active": True}
    assert (webhook.webhook_id, webhook.url, webhook.events) == ("wh_1", URL, ("call.completed",))
    assert webhook.secret is not None and webhook.secret.reveal() == SECRET
    assert SECRET not in repr(webhook)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"id": "wh_2", "events": "call.completed, call.failed", "active": False}, "wh_2"),
        ({"webhook_id": 7, "signingSecret": SECRET, "events": None}, "7"),
        ({"url": URL}, None),
        ("wh_3", None),
    ],
)
def test_webhooks_are_parsed_tolerantly(data: Any, expected: str | None) -> None:
    webhook = parse_webhook(data)
    assert (webhook.webhook_id if webhook else None) == expected
    if webhook is not None and webhook.webhook_id == "wh_2":
        assert webhook.events == ("call.completed", "call.failed") and webhook.active is False


def test_list_webhooks_reads_a_list_or_an_object_holding_one() -> None:
    items = [{"webhookId": "wh_1", "url": URL}, {"junk": True}]
    client, _ = client_answering(
        httpx.Response(200, json={"success": True, "data": items}),
        httpx.Response(200, json={"success": True, "data": {"webhooks": items}}),
    )
    assert [w.webhook_id for w in client.list_webhooks()] == ["wh_1"]
    assert [w.webhook_id for w in client.list_webhooks()] == ["wh_1"]


@pytest.mark.parametrize(
    ("answer", "error", "words"),
    [
        (httpx.Response(401, json={}), AuthError, "VOXPRIA_API_KEY"),
        (httpx.Response(400, json={"error": "url must be https"}), ApiError, "url must be https"),
        (httpx.Response(503, text="down"), ApiError, "dialer webhooks list"),
        (httpx.Response(200, json={"success": True, "data": {}}), ApiError, "webhooks list"),
        (httpx.ReadTimeout("slow"), ApiUnavailable, "dialer webhooks list"),
        (httpx.ConnectError("refused"), ApiUnavailable, "was not sent"),
    ],
)
def test_create_webhook_is_sent_once_and_says_what_to_do(
    answer: httpx.Response | Exception, error: type[Exception], words: str
) -> None:
    client, seen = client_answering(answer, answer)
    with pytest.raises(error, match=words) as raised:
        client.create_webhook(URL, ["call.completed"])
    assert len(seen) == 1  # never repeated: a repeat could subscribe the URL twice
    assert KEY not in str(raised.value)
