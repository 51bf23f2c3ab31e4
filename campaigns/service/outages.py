"""Waiting out a Redis outage instead of failing: a step is tried again until Redis is back,
and the wait is said once (and its end). The campaign itself goes on by itself once Redis and a
worker are back, so whoever follows it only has to wait."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from dialer.clock import Clock
from dialer.errors import StoreError

OUTAGE_RETRY_S = 2.0
T = TypeVar("T")


def store_outages() -> tuple[type[BaseException], ...]:
    """What a store outage raises; the cluster's queue adds its own (workers/submission.py).
    redis is imported here, when it is needed: it costs start-up time."""
    import redis

    return (redis.RedisError, StoreError)


def through_outages(
    step: Callable[[], T],
    say: Callable[[str], None],
    clock: Clock,
    give_up_s: float | None = None,
    errors: tuple[type[BaseException], ...] | None = None,
) -> T:
    """`step()`, waiting out a Redis outage (said once, and when it ends) instead of failing:
    the campaign itself goes on by itself once Redis and a worker are back. `errors`: what an
    outage raises (default: the store's)."""
    errors = store_outages() if errors is None else errors
    down_since: float | None = None
    while True:
        try:
            result = step()
        except errors as exc:
            if down_since is None:
                down_since = clock.now()
                say(
                    f"Redis (REDIS_URL) cannot be reached ({_first_line(exc)}): waiting for it "
                    "to come back. The campaign goes on by itself once Redis and a worker are "
                    "back; Ctrl-C leaves."
                )
            if give_up_s is not None and clock.now() - down_since > give_up_s:
                raise StoreError(
                    f"Redis (REDIS_URL) stayed unreachable for {give_up_s:g} s: start it again "
                    "(docker compose up -d redis), then run the command again."
                ) from exc
            clock.sleep(OUTAGE_RETRY_S)
            continue
        if down_since is not None:
            say(f"Redis is back after {clock.now() - down_since:.0f} s.")
        return result


def _first_line(exc: BaseException) -> str:
    if isinstance(exc, StoreError) and exc.__cause__ is not None:
        exc = exc.__cause__  # what Redis said, not the advice: the outage is waited out
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]
