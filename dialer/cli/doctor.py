"""`dialer doctor`: what the account and the API look like before a first campaign, and what the
dialer relies on from them.

Each check is one finding: ok, warn (the dialer copes, less well) or fail (a run would not
work). The call list matters most: a POST whose answer was lost is settled only by finding (or
provably not finding) its call there, which needs the list newest first, paged, and its items
carrying `toNumber`, `agentId` and `createdAt`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from itertools import pairwise
from typing import Any

import click

from dialer.errors import ApiError, AuthError
from dialer.settings import Settings
from dialer.voxpria.client import Probe, VoxpriaClient

LIMIT_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")
PAGE = 5  # calls per page read: two small pages tell the order and the paging


class Level(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Finding:
    level: Level
    what: str
    detail: str

    def line(self) -> str:
        return f"[{self.level.value:>4}] {self.what}: {self.detail}"


def examine(client: VoxpriaClient, agent_id: str | None, now: float) -> Iterator[Finding]:
    """Every finding, in order; stops after the key is refused (nothing else can be seen)."""
    try:
        credits = client.probe("/credits")
    except ApiError as exc:
        yield Finding(Level.FAIL, "API", str(exc))
        return
    if credits.status == 401:
        yield Finding(Level.FAIL, "API key", "refused (401): check VOXPRIA_API_KEY")
        return
    yield Finding(Level.OK, "API key", f"accepted (GET /credits answered {credits.status})")
    yield _credits(credits)
    yield _limit_headers(credits, now)
    if agent_id:
        yield _agent(client, agent_id)
    yield from _call_list(client)


def _credits(probe: Probe) -> Finding:
    data = probe.body.get("data") if isinstance(probe.body, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("balance"), int | float):
        return Finding(
            Level.WARN, "credits", "no balance in GET /credits: --min-balance cannot work"
        )
    balance = float(data["balance"])
    level = Level.OK if balance > 0 else Level.WARN
    return Finding(level, "credits", f"balance {balance:g} {data.get('currency') or ''}".rstrip())


def _limit_headers(probe: Probe, now: float) -> Finding:
    seen = {h: probe.headers[h] for h in LIMIT_HEADERS if h in probe.headers}
    if not seen:
        return Finding(
            Level.WARN,
            "limit headers",
            "none sent: the dialer paces by VOXPRIA_CALL_LIMIT and VOXPRIA_REQUEST_LIMIT alone "
            "and, after a 429, waits a minute",
        )
    shown = ", ".join(f"{h}={v}" for h, v in seen.items())
    return Finding(Level.OK, "limit headers", f"{shown}; {_reset_units(seen, now)}")


def _reset_units(seen: dict[str, str], now: float) -> str:
    """How the dialer reads X-RateLimit-Reset (dialer.voxpria.wire.retry_at_from_headers)."""
    try:
        reset = float(seen.get("x-ratelimit-reset", ""))
    except ValueError:
        return "the reset is not a number: after a 429 the dialer waits a minute"
    if reset > 1e11:
        return f"the reset reads as epoch milliseconds ({reset / 1000 - now:+.0f} s from now)"
    if reset < 1e9:
        return f"the reset reads as seconds from now ({reset:g} s)"
    return f"the reset reads as epoch seconds ({reset - now:+.0f} s from now)"


def _agent(client: VoxpriaClient, agent_id: str) -> Finding:
    try:
        agent = client.get_agent(agent_id)
    except AuthError:
        raise
    except ApiError as exc:
        return Finding(Level.FAIL, f"agent {agent_id}", str(exc))
    level = Level.OK if agent.is_active else Level.FAIL
    return Finding(level, f"agent {agent_id}", f"{agent.name or 'unnamed'}, {agent.status}")


def _call_list(client: VoxpriaClient) -> Iterator[Finding]:
    try:
        first = client.probe("/calls", {"page": 1, "limit": PAGE})
        second = client.probe("/calls", {"page": 2, "limit": PAGE})
    except ApiError as exc:
        yield Finding(Level.FAIL, "call list", str(exc))
        return
    if first.status != 200:
        yield Finding(Level.FAIL, "call list", f"GET /calls answered {first.status}")
        return
    items = first.calls()
    more = second.calls() if second.status == 200 else []
    if not items:
        yield Finding(
            Level.WARN,
            "call list",
            "empty: its order and fields cannot be checked until a call exists; run "
            "`dialer doctor` again after a first call",
        )
        return
    yield _fields(items + more)
    yield _order(items + more)
    yield _paging(items, more)


def _fields(items: list[Any]) -> Finding:
    missing = sorted(
        {name for item in items for name, present in _field_checks(item).items() if not present}
    )
    if missing:
        return Finding(
            Level.FAIL,
            "call list fields",
            f"items lack {', '.join(missing)}: a lost POST answer cannot be checked in the "
            "list, so such rows end unknown (never dialled again)",
        )
    return Finding(Level.OK, "call list fields", "items carry toNumber, agentId and createdAt")


def _field_checks(item: Any) -> dict[str, bool]:
    get: Callable[[str], Any] = item.get if isinstance(item, dict) else (lambda _: None)
    return {
        "toNumber": bool(get("toNumber") or get("phoneNumber")),
        "agentId": bool(get("agentId")),
        "createdAt": _time(get("createdAt")) is not None,
    }


def _order(items: list[Any]) -> Finding:
    times = [t for i in items if isinstance(i, dict) and (t := _time(i.get("createdAt")))]
    if len(times) < 2:
        return Finding(Level.WARN, "call list order", "too few calls to tell the order")
    if all(a >= b for a, b in pairwise(times)):
        return Finding(Level.OK, "call list order", "newest first, as verification needs")
    return Finding(
        Level.FAIL,
        "call list order",
        "not newest first: a call cannot be proven absent, so lost POST answers end unknown",
    )


def _paging(first: list[Any], second: list[Any]) -> Finding:
    if len(first) < PAGE:
        return Finding(Level.OK, "call list paging", f"one page holds every call ({len(first)})")
    ids = {str(i.get("callId") or i.get("id")) for i in first if isinstance(i, dict)}
    again = [
        i for i in second if isinstance(i, dict) and str(i.get("callId") or i.get("id")) in ids
    ]
    if not second or again:
        return Finding(
            Level.WARN,
            "call list paging",
            "page 2 repeats page 1 or is empty: the dialer reads the list page by page and "
            "may not see far enough back",
        )
    return Finding(Level.OK, "call list paging", "page and limit are honoured")


def _time(text: Any) -> float | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


RELIES_ON = """What the dialer relies on:
- POST /calls answers callId; a lost answer is settled through GET /calls (newest first, paged,
  items with toNumber, agentId, createdAt), searched until DIALER_VERIFY_AFTER_S after the POST.
- The account limits VOXPRIA_CALL_LIMIT and VOXPRIA_REQUEST_LIMIT (every GET counts); a 429's
  X-RateLimit-Reset (or Retry-After) says when to go on.
- GET /agents/:id says the agent is active; GET /credits says the balance."""


@click.command(help="Check the account and the API before a first campaign.")
@click.option("--agent", "agent_id", help="Also check this agent.")
def doctor(agent_id: str | None) -> None:
    from rich.console import Console

    from dialer.cli.console import say
    from dialer.clock import SystemClock
    from dialer.voxpria.client import Timeouts, VoxpriaClient

    settings = Settings.from_env()
    settings.require_api_key()
    console, clock = Console(), SystemClock()
    worst = Level.OK
    timeouts = Timeouts(read_s=settings.http_read_timeout_s)
    with VoxpriaClient(settings.base_url, settings.api_key, timeouts=timeouts) as client:
        for finding in examine(client, agent_id, clock.now()):
            say(console, finding.line())
            worst = Level.FAIL if Level.FAIL in (worst, finding.level) else worst
    say(console, RELIES_ON)
    if worst is Level.FAIL:
        sys.exit(1)
