"""A faithful Voxpria simulator: the documented endpoints, shapes, quotas and statuses, plus
seeded fault injection, as a Starlette app built by `create_simulator`.

Served by `dialer simulate` (see `serve`) and by the tests over real HTTP. Everything it knows
lives in one `Simulator`, guarded by one lock: uvicorn runs it in a thread while tests read it.
`/_sim/*` is the simulator's own back door (audit, stats, faults) and needs no key.
It pushes webhooks too (`POST /webhooks` subscribes, or `webhook_url` in the config): see
`simulator_webhooks` for which events, and the dropped, repeated and retried deliveries.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict
from random import Random
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dialer.clock import Clock, SystemClock
from dialer.settings import Secret
from dialer.simulator.answers import (
    _agent_json,
    _api_key_of,
    _BrokenResponse,
    _error,
    _http_exception,
    _json_body,
    _ok,
    _positive_int,
    _sleep_unless_disconnected,
    _take,
    _throttled,
    _webhook_problem,
    quiet_lost_answers,
)
from dialer.simulator.calls import SimCall, Timeline, iso_utc
from dialer.simulator.config import (
    DEFAULT_PAGE_SIZE,
    DOCUMENTED_CALL_LIMIT,
    MAX_PAGE_SIZE,
    AuditEntry,
    SimulatorConfig,
)
from dialer.simulator.faults import Fault, FaultInjector, FixedWindowQuota, QuotaVerdict
from dialer.simulator.webhooks import (
    Subscription,
    WebhookDispatcher,
)
from dialer.voxpria.models import CallStatus

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
"""Forces a number's final status: a dict by toNumber, or a function of toNumber (None: draw)."""
Handler = Callable[[Request, str], Awaitable[Response]]


class Simulator:
    """The simulated account: its calls, credits, quotas and faults, and the ASGI `app`."""

    def __init__(self, config: SimulatorConfig, clock: Clock) -> None:
        self.config = config
        self._clock = clock
        self._lock = threading.Lock()
        self._rng = Random(config.seed)
        self._timeline = Timeline(config.speed, config.queue_s, config.ring_s)
        self._calls: dict[str, SimCall] = {}  # insertion order = creation order
        self._balance = config.credits_balance
        self._balance_updated_s = clock.now()
        self._requests: Counter[str] = Counter()
        self._throttled = 0  # 429 answers (quotas and spurious ones alike)
        self._call_quota = FixedWindowQuota(config.call_limit) if config.call_limit else None
        self._request_quota = (
            FixedWindowQuota(config.request_limit) if config.request_limit else None
        )
        self._faults = FaultInjector(config.fault_probabilities(), self._rng)
        # its own generator: turning webhooks on leaves the calls' fates of a seed unchanged
        webhook_rng = Random(f"webhooks-{config.seed}")
        self._webhooks = WebhookDispatcher(config.delivery_policy(), clock, webhook_rng)
        self._subscriptions = _initial_subscriptions(config)
        self.app = Starlette(
            routes=self._routes(),
            exception_handlers={HTTPException: _http_exception},
        )

    # --- what tests and the CLI read and steer ---

    def audit(self) -> list[AuditEntry]:
        with self._lock:
            return [
                AuditEntry(c.call_id, c.to_number, c.agent_id, c.created_s)
                for c in self._calls.values()
            ]

    def stats(self) -> dict[str, int]:
        """Requests received, by endpoint (`"GET /calls/{id}"`), `/_sim/*` excepted."""
        with self._lock:
            return dict(self._requests)

    def throttled(self) -> int:
        """How many requests were answered 429."""
        with self._lock:
            return self._throttled

    def force(self, fault: Fault, times: int = 1) -> None:
        """Make the next `times` chances of `fault` strike (deterministic tests)."""
        with self._lock:
            self._faults.force(fault, times)

    def status_of(self, call_id: str) -> CallStatus:
        with self._lock:
            return self._calls[call_id].status_at(self._clock.now())

    def final_status_of(self, call_id: str) -> CallStatus:
        """The status the call ends with, whether it has ended yet or not."""
        with self._lock:
            return self._calls[call_id].final_status

    def webhook_stats(self) -> dict[str, int]:
        """Deliveries by what became of them (see `WebhookDispatcher.stats`)."""
        return self._webhooks.stats()

    def webhooks_pending(self) -> int:
        return self._webhooks.pending()

    def close(self) -> None:
        """Stop delivering webhooks (pending deliveries are dropped)."""
        self._webhooks.close()

    # --- routes ---

    def _routes(self) -> list[Route]:
        api = "/api/v1"
        return [
            Route(f"{api}/calls", self._guard("POST /calls", self._create_call), methods=["POST"]),
            Route(f"{api}/calls", self._guard("GET /calls", self._list_calls), methods=["GET"]),
            Route(f"{api}/calls/{{call_id}}", self._guard("GET /calls/{id}", self._get_call)),
            Route(f"{api}/agents", self._guard("GET /agents", self._list_agents)),
            Route(f"{api}/agents/{{agent_id}}", self._guard("GET /agents/{id}", self._get_agent)),
            Route(f"{api}/credits", self._guard("GET /credits", self._get_credits)),
            Route(
                f"{api}/webhooks",
                self._guard("POST /webhooks", self._create_webhook),
                methods=["POST"],
            ),
            Route(
                f"{api}/webhooks",
                self._guard("GET /webhooks", self._list_webhooks),
                methods=["GET"],
            ),
            Route("/_sim/audit", self._sim_audit),
            Route("/_sim/stats", self._sim_stats),
            Route("/_sim/faults", self._sim_force, methods=["POST"]),
        ]

    def _guard(self, endpoint: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """What every API request goes through first: counting, auth, request quota, flaky GETs."""

        async def guarded(request: Request) -> Response:
            with self._lock:
                self._requests[endpoint] += 1
            key = _api_key_of(request)
            if not self._accepts(key):
                return _error(401, "Invalid or missing API key: send Authorization: Bearer <key>.")
            with self._lock:
                verdict = _take(self._request_quota, key, self._clock.now())
                flaky = request.method == "GET" and self._faults.strikes(Fault.FLAKY_GET)
                flaky_status = self._rng.choice((500, 503)) if flaky else 0
            if not verdict.allowed:
                with self._lock:
                    self._throttled += 1
                return _throttled(verdict, "API request limit exceeded.")
            if flaky:
                return _error(flaky_status, "Service temporarily unavailable.")
            return await handler(request, key)

        return guarded

    def _accepts(self, key: str) -> bool:
        expected = self.config.api_key
        if not expected:
            return bool(key)
        return key == expected.reveal()

    async def _create_call(self, request: Request, key: str) -> Response:
        with self._lock:
            verdict = _take(self._call_quota, key, self._clock.now())
            throttle = self._faults.strikes(Fault.THROTTLE)
            spurious = self._spurious_throttle(key) if throttle else None
            server_error = self._faults.strikes(Fault.ERROR_BEFORE_CREATE)
        if not verdict.allowed or spurious:
            with self._lock:
                self._throttled += 1
        if not verdict.allowed:
            return _throttled(verdict, "Call limit exceeded.")
        if spurious:
            return _throttled(spurious, "Call limit exceeded.")
        if server_error:
            return _error(500, "Internal server error.")
        body = await _json_body(request)
        with self._lock:
            problem = self._problem_with(body)
            if problem:
                return _error(*problem)
            call = self._new_call(body)
            lost = self._faults.strikes(Fault.LOST_AFTER_CREATE)
            slow = self._faults.strikes(Fault.SLOW_AFTER_CREATE)
        answer = JSONResponse({"success": True, "data": call.created_json()}, status_code=201)
        if lost:
            return _BrokenResponse(answer)
        if slow:
            await _sleep_unless_disconnected(request, self.config.slow_s)
        return answer

    async def _get_call(self, request: Request, key: str) -> Response:
        call_id = request.path_params["call_id"]
        with self._lock:
            call = self._calls.get(call_id)
            data = call.details_json(self._clock.now()) if call else None
        if data is None:
            return _error(404, f"Call not found: {call_id}")
        return _ok(data)

    async def _list_calls(self, request: Request, key: str) -> Response:
        page = _positive_int(request.query_params.get("page"), default=1)
        limit = _positive_int(request.query_params.get("limit"), default=DEFAULT_PAGE_SIZE)
        if page is None or limit is None:
            return _error(400, "page and limit must be positive integers.")
        limit = min(limit, MAX_PAGE_SIZE)
        with self._lock:
            now = self._clock.now()
            newest_first = list(reversed(self._calls.values()))
            chosen = newest_first[(page - 1) * limit : page * limit]
            data = [call.details_json(now) for call in chosen]
        pagination = {"page": page, "per_page": limit, "total": len(newest_first)}
        return JSONResponse({"success": True, "data": data, "pagination": pagination})

    async def _list_agents(self, request: Request, key: str) -> Response:
        agents = self.config.agents.items()
        return _ok([_agent_json(agent_id, status) for agent_id, status in agents])

    async def _get_agent(self, request: Request, key: str) -> Response:
        agent_id = request.path_params["agent_id"]
        status = self._agent_status(agent_id)
        if status is None:
            return _error(404, f"Agent not found: {agent_id}")
        return _ok(_agent_json(agent_id, status))

    async def _get_credits(self, request: Request, key: str) -> Response:
        with self._lock:
            balance, updated_s = self._balance, self._balance_updated_s
        currency = self.config.currency
        return _ok({"balance": balance, "currency": currency, "lastUpdated": iso_utc(updated_s)})

    async def _create_webhook(self, request: Request, key: str) -> Response:
        """`POST /webhooks {url, events[], active}`: the secret is shown in this answer only."""
        body = await _json_body(request)
        problem = _webhook_problem(body)
        if problem:
            return _error(400, problem)
        subscription = Subscription(
            webhook_id=f"wh_{secrets.token_hex(8)}",
            url=body["url"],
            events=tuple(body.get("events") or ("*",)),
            secret=Secret(f"whsec_{secrets.token_urlsafe(24)}"),
            active=bool(body.get("active", True)),
        )
        with self._lock:
            self._subscriptions.append(subscription)
        data = subscription.public_json() | {"secret": subscription.secret.reveal()}
        return JSONResponse({"success": True, "data": data}, status_code=201)

    async def _list_webhooks(self, request: Request, key: str) -> Response:
        with self._lock:
            return _ok([s.public_json() for s in self._subscriptions])

    async def _sim_audit(self, request: Request) -> Response:
        return JSONResponse([asdict(entry) for entry in self.audit()])

    async def _sim_stats(self, request: Request) -> Response:
        requests = self.stats()
        return JSONResponse(
            {"requests": requests, "total": sum(requests.values()), "calls": len(self.audit())}
        )

    async def _sim_force(self, request: Request) -> Response:
        """`POST /_sim/faults {"fault": "lost_after_create", "times": 1}`."""
        body = await _json_body(request)
        try:
            fault = Fault(body["fault"])
            times = int(body.get("times", 1))
        except (KeyError, TypeError, ValueError):
            faults = ", ".join(f.value for f in Fault)
            return _error(400, f'Send {{"fault": one of {faults}, "times": N}}.')
        self.force(fault, times)
        return _ok({"fault": fault.value, "times": times})

    # --- state changes (the caller holds the lock) ---

    def _problem_with(self, body: Any) -> tuple[int, str] | None:
        """Why a POST /calls body cannot make a call, as (HTTP status, message); None if it can."""
        if not isinstance(body, dict):
            return 400, "The body must be a JSON object: {agentId, toNumber, variables}."
        agent_id, to_number = body.get("agentId"), body.get("toNumber")
        variables = body.get("variables", {})
        if not isinstance(agent_id, str) or not agent_id:
            return 400, "agentId is required."
        if not isinstance(to_number, str) or not E164.match(to_number):
            return 400, f"toNumber must be an E.164 number like +14155551234, got {to_number!r}."
        if variables is not None and not isinstance(variables, dict):
            return 400, "variables must be an object of strings."
        bad = [name for name, value in (variables or {}).items() if not isinstance(value, str)]
        if bad:
            return 400, f"variables must be strings: {', '.join(sorted(bad))}."
        status = self._agent_status(agent_id)
        if status is None:
            return 404, f"Agent not found: {agent_id}"
        if status != "active":
            return 400, f"Agent {agent_id} is {status}: activate it to place calls."
        if self._balance < self.config.credits_per_call:
            return 402, "Insufficient credits: top up the account to place calls."
        return None

    def _new_call(self, body: Mapping[str, Any]) -> SimCall:
        now = self._clock.now()
        to_number: str = body["toNumber"]
        final_status = self._fate(to_number)
        talk_s = self._rng.uniform(*self.config.talk_s)
        # The seeded draw is kept so a seed still gives the same fates and faults; the id
        # itself is random: unique across runs and restarts, as the API's are.
        self._rng.getrandbits(64)
        call = SimCall(
            call_id=f"call_{secrets.token_hex(12)}",
            to_number=to_number,
            agent_id=body["agentId"],
            variables=dict(body.get("variables") or {}),
            created_s=now,
            final_status=final_status,
            talk_s=talk_s if final_status is CallStatus.COMPLETED else 0.0,
            timeline=self._timeline,
        )
        self._calls[call.call_id] = call
        self._webhooks.schedule_call(call, self._subscriptions)
        self._balance -= self.config.credits_per_call
        self._balance_updated_s = now
        return call

    def _fate(self, to_number: str) -> CallStatus:
        rule = self.config.outcome_by_number
        forced = rule(to_number) if callable(rule) else (rule or {}).get(to_number)
        if forced:
            return CallStatus(forced)
        statuses = list(self.config.outcome_weights)
        weights = list(self.config.outcome_weights.values())
        return CallStatus(self._rng.choices(statuses, weights)[0])

    def _agent_status(self, agent_id: str) -> str | None:
        status = self.config.agents.get(agent_id)
        if status is None and self.config.accept_any_agent:
            return "active"
        return status

    def _spurious_throttle(self, key: str) -> QuotaVerdict:
        """A 429 that looks like the call quota's own, headers and all."""
        quota = self._call_quota or FixedWindowQuota(DOCUMENTED_CALL_LIMIT)
        verdict = quota.peek(key, self._clock.now())
        return QuotaVerdict(False, verdict.limit, 0, verdict.reset_s)


def create_simulator(
    config: SimulatorConfig | None = None, clock: Clock | None = None
) -> Simulator:
    return Simulator(config or SimulatorConfig(), clock or SystemClock())


def serve(config: SimulatorConfig, host: str = "127.0.0.1", port: int = 8099) -> None:
    """Serve a simulator until interrupted (what `dialer simulate` runs)."""
    quiet_lost_answers()
    simulator = create_simulator(config)
    uvicorn.run(simulator.app, host=host, port=port, http="h11", log_level="warning")


# --- small helpers ---


def _initial_subscriptions(config: SimulatorConfig) -> list[Subscription]:
    if not config.webhook_url or not config.webhook_secret:
        return []
    return [
        Subscription("wh_config", config.webhook_url, config.webhook_events, config.webhook_secret)
    ]


