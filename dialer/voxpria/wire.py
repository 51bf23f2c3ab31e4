"""The API's answers read tolerantly: calls, agents, webhooks, messages, pages and retry times."""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from dialer.settings import Secret
from dialer.voxpria.models import (
    Agent,
    Call,
    CallStatus,
    Webhook,
)

DEFAULT_THROTTLE_S = 60.0  # a 429 that names no reset time: wait a full minute window


MESSAGE_MAX_CHARS = 300


_LIST_KEYS = ("calls", "webhooks", "items", "results", "data")


def retry_at_from_headers(headers: Mapping[str, str], now: float) -> float:
    """When a 429 may be retried, in epoch seconds.

    `Retry-After` (seconds or an HTTP date) if present; else `X-RateLimit-Reset`, documented as
    epoch seconds but read as epoch milliseconds when huge and as seconds-from-now when small;
    else a minute from now.
    """
    retry_after = (headers.get("Retry-After") or "").strip()
    if retry_after:
        seconds = _number(retry_after)
        if seconds is not None:
            return now + max(0.0, seconds)
        try:
            return max(now, parsedate_to_datetime(retry_after).timestamp())
        except (TypeError, ValueError):
            pass
    reset = _number((headers.get("X-RateLimit-Reset") or "").strip())
    if reset is None:
        return now + DEFAULT_THROTTLE_S
    if reset > 1e11:  # epoch milliseconds
        reset /= 1000
    elif reset < 1e9:  # a delay, not a date (epoch 1e9 is 2001)
        reset += now
    return max(now, reset)


def api_message(response: httpx.Response) -> str:
    """The API's own words from an error answer, whatever its shape, truncated."""
    body = _json_or_none(response)
    text = _message_in(body) if body is not None else response.text.strip()
    text = " ".join((text or response.reason_phrase or f"HTTP {response.status_code}").split())
    return text if len(text) <= MESSAGE_MAX_CHARS else text[: MESSAGE_MAX_CHARS - 1] + "…"


def _message_in(body: Any) -> str:
    if isinstance(body, str):
        return body
    if isinstance(body, list):
        return "; ".join(filter(None, (_message_in(item) for item in body)))
    if isinstance(body, dict):
        for key in ("error", "message", "errors", "detail", "msg"):
            if body.get(key):
                return _message_in(body[key])
    return ""


def parse_call(data: Any) -> Call | None:
    """A `Call` from the API's camelCase object (`callId` or `id`, `toNumber` or
    `phoneNumber`); None when there is no call id."""
    if not isinstance(data, dict):
        return None
    call_id = _text(data.get("callId") or data.get("id") or data.get("call_id"))
    if not call_id:
        return None
    return Call(
        call_id=call_id,
        status=CallStatus.parse(data.get("status")),
        to_number=_text(data.get("toNumber") or data.get("phoneNumber") or data.get("to")),
        agent_id=_text(data.get("agentId") or data.get("agent_id")),
        created_at=_text(data.get("createdAt")),
        duration_s=_number(data.get("duration")),
        outcome=_text(data.get("outcome")),
        recording=_text(data.get("recording") or data.get("recordingUrl")),
        transcript=_text(data.get("transcript") or data.get("summary")),
        started_at=_text(data.get("startedAt")),
        completed_at=_text(data.get("completedAt") or data.get("endedAt")),
    )


def parse_agent(data: Any) -> Agent | None:
    if not isinstance(data, dict):
        return None
    agent_id = _text(data.get("agentId") or data.get("id"))
    if not agent_id:
        return None
    return Agent(agent_id, _text(data.get("name")), _text(data.get("status")))


def parse_webhook(data: Any) -> Webhook | None:
    """A `Webhook` from the API's object (`webhookId` or `id`); None without an id."""
    if not isinstance(data, dict):
        return None
    webhook_id = _text(data.get("webhookId") or data.get("id") or data.get("webhook_id"))
    if not webhook_id:
        return None
    events = data.get("events")
    if isinstance(events, str):  # "call.completed,call.failed"
        events = events.split(",")
    names = (
        tuple(e.strip() for e in events if isinstance(e, str))
        if isinstance(events, list | tuple)
        else ()
    )
    active = data.get("active")
    secret = _text(data.get("secret") or data.get("signingSecret") or data.get("signing_secret"))
    return Webhook(
        webhook_id=webhook_id,
        url=_text(data.get("url")),
        events=names,
        active=active if isinstance(active, bool) else None,
        secret=Secret(secret) if secret else None,
    )


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _envelope_data(body: Any) -> Any:
    """`data` of the `{success, data}` envelope; the body itself when it has none."""
    if isinstance(body, dict) and "data" in body:
        return body["data"]
    return body


def _items(data: Any) -> list[Any]:
    """The list in `data`: itself, or held under calls/items/results/data."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in _LIST_KEYS:
            if isinstance(data.get(key), list):
                return list(data[key])
    return []


def _pagination(body: Any) -> dict[str, Any]:
    for holder in (body, _envelope_data(body)):
        if isinstance(holder, dict):
            for key in ("pagination", "meta"):
                if isinstance(holder.get(key), dict):
                    return dict(holder[key])
    return {}


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None
