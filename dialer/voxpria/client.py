"""The Voxpria API client: the only module that sees httpx.

Every foreign exception is translated here, once. `POST /calls` is never retried (the API has
no idempotency key, so a retry can phone a person twice): its answer is classified into one of
the five `PostOutcome`s and the caller decides. GETs are safe to repeat and retry with one
tenacity policy whose sleep is the injected clock's.

The API key goes into one request header and nowhere else: not logs, messages or repr().
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import quote, unquote

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_random_exponential

from dialer.clock import Clock, SystemClock
from dialer.errors import ApiError, ApiUnavailable, AuthError, NotFoundError
from dialer.metrics import NO_METRICS, Recorder
from dialer.settings import Secret, shown_url
from dialer.voxpria.models import (
    Agent,
    Ambiguous,
    Call,
    Created,
    Credits,
    NotSent,
    PostOutcome,
    Rejected,
    Throttled,
    Webhook,
)
from dialer.voxpria.wire import (
    _envelope_data,
    _items,
    _json_or_none,
    _number,
    _pagination,
    _text,
    api_message,
    parse_agent,
    parse_call,
    parse_webhook,
    retry_at_from_headers,
)

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 100  # the documented maximum of the API's paginated endpoints
GET_BACKOFF = wait_random_exponential(multiplier=0.5, max=30)  # 0.5 s, 1 s, 2 s... with jitter
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
_MAYBE_SUBSCRIBED = (
    "a webhook may have been created: check `dialer webhooks list` before registering again"
)


@dataclass(frozen=True)
class Timeouts:
    """Per-phase HTTP timeouts, in seconds."""

    connect_s: float = 5.0
    read_s: float = 15.0
    write_s: float = 10.0
    pool_s: float = 5.0

    def to_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect_s, read=self.read_s, write=self.write_s, pool=self.pool_s
        )


class _RetryableAnswer(Exception):
    """A GET answer worth repeating (5xx or 429); `retry_at` (epoch s) is set for a 429."""

    def __init__(self, reason: str, retry_at: float | None = None) -> None:
        super().__init__(reason)
        self.retry_at = retry_at


@dataclass(frozen=True)
class Probe:
    """A GET's answer as it came (header names in lower case)."""

    status: int
    headers: dict[str, str]
    body: Any

    def calls(self) -> list[Any]:
        """The raw call objects of a call-list answer."""
        return list(_items(_envelope_data(self.body)))


class VoxpriaClient:
    """Synchronous client of the Voxpria REST API rooted at `base_url` (up to `/api/v1`)."""

    def __init__(
        self,
        base_url: str,
        api_key: Secret,
        *,
        transport: httpx.BaseTransport | None = None,
        timeouts: Timeouts = Timeouts(),
        clock: Clock | None = None,
        before_request: Callable[[str], None] | None = None,
        get_attempts: int = 5,
        metrics: Recorder = NO_METRICS,
    ) -> None:
        key = api_key.reveal()
        self._base_url = base_url.rstrip("/")
        self._shown_url = shown_url(self._base_url)  # for messages: no credentials in them
        self._clock: Clock = clock or SystemClock()
        self._before_request = before_request
        self._metrics = metrics
        self._get_attempts = max(1, get_attempts)
        self._key_mask = _KeyMask(key, *_url_credentials(self._base_url))
        self._http = httpx.Client(
            base_url=self._base_url,
            transport=transport,
            timeout=timeouts.to_httpx(),
            headers={
                "Authorization": f"Bearer {key}",
                "Accept": "application/json",
                "User-Agent": "voxpria-dialer",
            },
        )

    def __repr__(self) -> str:
        return f"VoxpriaClient(base_url={self._shown_url!r})"

    def __enter__(self) -> VoxpriaClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- POST /calls: classified, never retried ---

    def create_call(
        self, agent_id: str, to_number: str, variables: Mapping[str, str]
    ) -> PostOutcome:
        body = {"agentId": agent_id, "toNumber": to_number, "variables": dict(variables)}
        try:
            response = self._send("POST", "/calls", "call", json=body)
        except _NOT_SENT as exc:
            return NotSent(f"the request was not sent: {self._described(exc)}")
        except httpx.HTTPError as exc:
            lost = f"the answer was lost after the request was sent: {self._described(exc)}"
            return Ambiguous(lost)
        return self._classify_post(response)

    def _classify_post(self, response: httpx.Response) -> PostOutcome:
        status = response.status_code
        if status == 401:
            raise _auth_error()
        if status == 429:
            return Throttled(self._retry_at(response.headers), "HTTP 429: over the rate limit")
        if 400 <= status < 500:
            return Rejected(status, self._api_message(response))
        if not 200 <= status < 300:
            return Ambiguous(f"HTTP {status}: a call may or may not have been created")
        body = _json_or_none(response)
        if isinstance(body, dict) and body.get("success") is False:
            return Rejected(status, self._api_message(response))
        call = parse_call(_envelope_data(body))
        if call is None:
            return Ambiguous(f"HTTP {status} without a callId: a call may have been created")
        return Created(call)

    # --- GETs: retried ---

    def get_call(self, call_id: str) -> Call:
        data = self._get_data(
            f"/calls/{_segment(call_id)}", not_found=f"No call {call_id!r} at Voxpria."
        )
        call = parse_call(data)
        if call is None:
            raise ApiError(f"GET /calls/{call_id} answered without a call; try again later.")
        return call

    def list_calls_page(self, page: int, limit: int = MAX_PAGE_SIZE) -> list[Call]:
        return self._calls_page(page, limit)[0]

    def list_calls(
        self, limit: int = MAX_PAGE_SIZE, max_pages: int | None = None
    ) -> Iterator[Call]:
        """Every call, page by page in the API's order (newest first), lazily."""
        page = 1
        while max_pages is None or page <= max_pages:
            calls, page_size, total = self._calls_page(page, limit)
            yield from calls
            if len(calls) < page_size or (total is not None and page * page_size >= total):
                return
            page += 1

    def probe(self, path: str, params: Mapping[str, int] | None = None) -> Probe:
        """One GET, not retried, answered as it came: its status, headers and JSON body (for
        `dialer doctor`, which reports what the API sends rather than what the dialer makes
        of it). Raises ApiUnavailable when nothing answered."""
        try:
            response = self._send("GET", path, "read", params=params)
        except httpx.HTTPError as exc:
            raise ApiUnavailable(
                f"GET {path}: {_describe(exc)}; check VOXPRIA_BASE_URL and the network."
            ) from exc
        return Probe(response.status_code, dict(response.headers), _json_or_none(response))

    def get_agent(self, agent_id: str) -> Agent:
        data = self._get_data(
            f"/agents/{_segment(agent_id)}",
            not_found=f"Agent {agent_id!r} does not exist at Voxpria: check --agent "
            "(GET /agents lists the account's agents).",
        )
        agent = parse_agent(data)
        if agent is None:
            raise ApiError(f"GET /agents/{agent_id} answered without an agent; try again later.")
        return agent

    def list_agents(self) -> list[Agent]:
        items = _items(self._get_data("/agents"))
        return [agent for agent in map(parse_agent, items) if agent is not None]

    def get_credits(self) -> Credits:
        data = self._get_data("/credits")
        data = data if isinstance(data, dict) else {}
        return Credits(_number(data.get("balance")), _text(data.get("currency")))

    # --- webhook subscriptions ---

    def create_webhook(self, url: str, events: list[str]) -> Webhook:
        """Subscribe `url` to `events`. Sent once, never retried: a repeat whose first answer
        was lost would subscribe the URL twice (every event delivered twice)."""
        body = {"url": url, "events": list(events), "active": True}
        try:
            response = self._send("POST", "/webhooks", "write", json=body)
        except _NOT_SENT as exc:
            raise ApiUnavailable(f"POST /webhooks was not sent ({self._described(exc)}).") from exc
        except httpx.HTTPError as exc:
            raise ApiUnavailable(
                f"POST /webhooks got no answer ({self._described(exc)}): {_MAYBE_SUBSCRIBED}."
            ) from exc
        return self._created_webhook(response)

    def _created_webhook(self, response: httpx.Response) -> Webhook:
        status = response.status_code
        if status == 401:
            raise _auth_error()
        body = _json_or_none(response)
        refused = isinstance(body, dict) and body.get("success") is False
        if not 200 <= status < 300 or refused:
            detail = f"HTTP {status}: {self._api_message(response)}"
            hint = _MAYBE_SUBSCRIBED if status >= 500 else "check --url and --event"
            raise ApiError(f"Voxpria refused the webhook ({detail}); {hint}.")
        webhook = parse_webhook(_envelope_data(body))
        if webhook is None:
            raise ApiError(
                f"POST /webhooks answered HTTP {status} without a webhookId: {_MAYBE_SUBSCRIBED}."
            )
        return webhook

    def list_webhooks(self) -> list[Webhook]:
        items = _items(self._get_data("/webhooks"))
        return [webhook for webhook in map(parse_webhook, items) if webhook is not None]

    def _calls_page(self, page: int, limit: int) -> tuple[list[Call], int, int | None]:
        """One page of calls, the page size the server used, and its total if it said."""
        limit = min(max(1, limit), MAX_PAGE_SIZE)
        body = self._get_body("/calls", params={"page": page, "limit": limit})
        calls = [call for call in map(parse_call, _items(_envelope_data(body))) if call]
        pagination = _pagination(body)
        per_page = _number(pagination.get("per_page") or pagination.get("perPage"))
        total = _number(pagination.get("total"))
        page_size = int(per_page) if per_page and per_page < limit else limit
        return calls, page_size, None if total is None else int(total)

    def _get_data(self, path: str, *, not_found: str | None = None) -> Any:
        return _envelope_data(self._get_body(path, not_found=not_found))

    def _get_body(
        self, path: str, *, params: Mapping[str, int] | None = None, not_found: str | None = None
    ) -> Any:
        retrying = Retrying(
            stop=stop_after_attempt(self._get_attempts),
            wait=self._get_wait_s,
            retry=retry_if_exception_type((_RetryableAnswer, httpx.TransportError)),
            sleep=self._clock.sleep,
            reraise=True,
        )
        try:
            return retrying(self._get_once, path, params, not_found)
        except (_RetryableAnswer, httpx.HTTPError) as exc:
            raise ApiUnavailable(
                f"GET {path} failed {self._get_attempts} times (last: {self._described(exc)}): "
                f"the Voxpria API at {self._shown_url} is unreachable or failing; check "
                "VOXPRIA_BASE_URL and the network, then run the command again."
            ) from exc

    def _get_once(self, path: str, params: Mapping[str, int] | None, not_found: str | None) -> Any:
        response = self._send("GET", path, "read", params=params)
        status = response.status_code
        if status == 401:
            raise _auth_error()
        if status == 429:
            raise _RetryableAnswer("HTTP 429", self._retry_at(response.headers))
        if status >= 500:
            raise _RetryableAnswer(f"HTTP {status}")
        if status == 404:
            raise NotFoundError(not_found or f"GET {path} answered 404: nothing there.")
        body = _json_or_none(response)
        if not 200 <= status < 300 or body is None:
            what = f"HTTP {status}" if body is not None else "an answer that is not JSON"
            raise ApiError(f"GET {path} got {what}: {self._api_message(response)}")
        if isinstance(body, dict) and body.get("success") is False:
            raise ApiError(f"GET {path} failed: {self._api_message(response)}")
        return body

    def _get_wait_s(self, state: RetryCallState) -> float:
        """Exponential backoff with jitter; after a 429, exactly until its reset time."""
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _RetryableAnswer) and exc.retry_at is not None:
            return max(0.0, exc.retry_at - self._clock.now())
        return float(GET_BACKOFF(state))

    # --- the wire ---

    def _send(self, method: str, path: str, kind: str, **kwargs: Any) -> httpx.Response:
        if self._before_request is not None:
            self._before_request(kind)
        started = time.monotonic()
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            log.debug("%s %s -> %s after %d ms", method, path, type(exc).__name__, _ms(started))
            self._metrics.api_request(method, path, None)
            raise
        self._metrics.api_request(method, path, response.status_code)
        log.debug("%s %s -> %d in %d ms", method, path, response.status_code, _ms(started))
        return response

    def _retry_at(self, headers: httpx.Headers) -> float:
        return retry_at_from_headers(headers, self._clock.now())

    def _api_message(self, response: httpx.Response) -> str:
        return self._key_mask(api_message(response))

    def _described(self, exc: BaseException) -> str:
        return self._key_mask(_describe(exc))


class _KeyMask:
    """Blanks the key, and any credentials of the base URL, out of text the API or httpx
    wrote (an error may echo the key it refused, or the URL it could not reach)."""

    __slots__ = ("_secrets",)

    def __init__(self, key: str, *url_credentials: str) -> None:
        # a key too short to be real would blank out ordinary words; URL credentials always go
        self._secrets = [s for s in (key,) if len(s) >= 8] + [s for s in url_credentials if s]

    def __repr__(self) -> str:
        return "_KeyMask()"

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "********")
        return text


def _url_credentials(url: str) -> list[str]:
    """The user and password in `url`'s authority, as written and percent-decoded."""
    authority = url.partition("://")[2].partition("/")[0]
    if "@" not in authority:
        return []
    userinfo = authority.rsplit("@", 1)[0]
    parts = [userinfo, *userinfo.split(":", 1)]
    return sorted({p for part in parts for p in (part, unquote(part)) if p}, key=len, reverse=True)


def _segment(value: str) -> str:
    """`value` as one path segment: `/`, `?`, `#` and `%` percent-encoded, and every dot too,
    so that `agent_x/../../credits` or `..` names no other resource of the API."""
    return quote(value, safe="").replace(".", "%2E")


def _auth_error() -> AuthError:
    return AuthError(
        "The Voxpria API refused the API key (HTTP 401): check VOXPRIA_API_KEY "
        "(and that VOXPRIA_BASE_URL points at the account it belongs to)."
    )


def _describe(exc: BaseException) -> str:
    detail = str(exc).strip()
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)




