"""The simulator's HTTP answers: envelopes, errors, throttling, lost answers, reading requests."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from dialer.simulator.faults import FixedWindowQuota, QuotaVerdict


class AnswerLost(Exception):
    """Raised mid-answer to make the server drop the connection (the lost-answer fault)."""


def quiet_lost_answers() -> None:
    """Keep uvicorn from logging a traceback for each injected lost answer."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DropLostAnswers) for f in logger.filters):
        logger.addFilter(_DropLostAnswers())


class _DropLostAnswers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], AnswerLost))


class _BrokenResponse(Response):
    """Sends the headers and half of the body of `answer`, then breaks the connection: the
    client sees the call's answer cut off (httpx: RemoteProtocolError) although it was made."""

    def __init__(self, answer: Response) -> None:
        super().__init__(answer.body, answer.status_code, media_type=answer.media_type)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        half = bytes(self.body[: len(self.body) // 2])
        await send({"type": "http.response.body", "body": half, "more_body": True})
        raise AnswerLost("injected fault: connection dropped mid-answer")


def _webhook_problem(body: Any) -> str | None:
    """Why a POST /webhooks body cannot subscribe; None if it can."""
    if not isinstance(body, dict):
        return "The body must be a JSON object: {url, events, active}."
    url = body.get("url")
    if not isinstance(url, str) or not re.match(r"^https?://[^/\s]+", url):
        return f"url must be an http(s) URL, got {url!r}."
    events = body.get("events", [])
    if not isinstance(events, list) or not all(isinstance(e, str) and e for e in events):
        return "events must be a list of event names, like call.completed."
    return None


def _take(quota: FixedWindowQuota | None, key: str, now: float) -> QuotaVerdict:
    if quota is None:
        return QuotaVerdict(True, 0, 0, now)
    return quota.take(key, now)


def _api_key_of(request: Request) -> str:
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("x-api-key", "").strip()


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except ValueError:
        return None


async def _sleep_unless_disconnected(request: Request, seconds: float) -> None:
    """Hold the answer back, but stop waiting once the client has given up (fast shutdowns)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (remaining := deadline - loop.time()) > 0:
        if await request.is_disconnected():
            return
        await asyncio.sleep(min(0.05, remaining))


def _positive_int(text: str | None, *, default: int) -> int | None:
    if text is None:
        return default
    return int(text) if text.isdigit() and int(text) > 0 else None


def _agent_json(agent_id: str, status: str) -> dict[str, str]:
    name = agent_id.removeprefix("agent_").replace("_", " ").title()
    return {"agentId": agent_id, "name": f"{name} agent", "status": status}


def _ok(data: Any) -> JSONResponse:
    return JSONResponse({"success": True, "data": data})


def _error(status_code: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return JSONResponse({"success": False, "error": message}, status_code, headers=headers)


def _throttled(verdict: QuotaVerdict, message: str) -> Response:
    return _error(429, f"{message} Try again after the reset time.", verdict.headers())


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return _error(exc.status_code, exc.detail)
