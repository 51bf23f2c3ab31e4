"""The one limiter: every call and request the account makes passes here first.

GCRA (generic cell rate algorithm) with a burst of 1: each limit keeps a theoretical arrival
time (TAT). An event at `now` may pass when `TAT <= now`, and then `TAT = max(TAT, now) +
interval`. Over any `w` seconds at most `rate * w + 1` events pass, whoever shares the TAT.

A POST /calls consumes three limits in one atomic step: the agent's `--rate`, the account call
limit and the account request limit (it is a request too). Either all are consumed (the answer is
0.0) or none is, and the answer is the seconds until all would allow it, so nobody spins and a
failed attempt never burns a slot of another limit.

Two backends answer the same `Limiter` protocol:
- `LocalLimiter`: one process (embedded mode), a lock, the injected clock.
- `RedisLimiter`: every worker of the cluster, one Lua script on the Redis server's clock (TIME),
  so machines with skewed clocks still share one timeline.

Times are integer microseconds: milliseconds would round an interval such as 1/7 s and either
exceed the rate (rounded down) or waste it (rounded up) on every event.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any, Protocol

from redis import ConnectionError as RedisConnectionError
from redis import Redis, RedisError
from redis import TimeoutError as RedisTimeoutError
from redis.commands.core import Script

from dialer.clock import Clock
from dialer.errors import StoreError
from dialer.redis_keys import RedisKeys
from dialer.settings import Rate

US_PER_S = 1_000_000

StopCheck = Callable[[], bool]


def interval_us(rate: Rate) -> int:
    """The spacing between events, rounded up: a rounded-down one would go over the rate."""
    return math.ceil(Fraction(rate.period_s) * US_PER_S / Fraction(rate.count))


def to_us(epoch_s: float) -> int:
    return round(epoch_s * US_PER_S)


class Limiter(Protocol):
    def acquire_call(self, agent_id: str, agent_rate: Rate | None) -> float:
        """Take one slot of the agent's rate (if any), the account calls and requests, all or
        none; 0.0 when taken, else the seconds to wait before all would allow it."""

    def acquire_request(self) -> float:
        """Take one slot of the account request limit; 0.0 or the seconds to wait."""

    def push_back(self, until: float) -> None:
        """After a 429: no call or request passes before `until` (epoch seconds)."""

    def wait_call(
        self, agent_id: str, agent_rate: Rate | None, clock: Clock, stop: StopCheck | None = None
    ) -> bool:
        """Block until a call slot is taken (True) or `stop()` turns true (False)."""

    def wait_request(self, clock: Clock, stop: StopCheck | None = None) -> bool:
        """Block until a request slot is taken (True) or `stop()` turns true (False)."""


def wait_for(acquire: Callable[[], float], clock: Clock, stop: StopCheck | None) -> bool:
    """Acquire, else sleep exactly the answered wait and try again; `stop` is checked before
    every attempt, so a stopped caller never takes a slot it would not use."""
    while stop is None or not stop():
        wait_s = acquire()
        if wait_s <= 0:
            return True
        clock.sleep(wait_s)
    return False


class _Waiting:
    """The blocking helpers, the same for every backend."""

    def acquire_call(self, agent_id: str, agent_rate: Rate | None) -> float:
        raise NotImplementedError

    def acquire_request(self) -> float:
        raise NotImplementedError

    def wait_call(
        self, agent_id: str, agent_rate: Rate | None, clock: Clock, stop: StopCheck | None = None
    ) -> bool:
        return wait_for(lambda: self.acquire_call(agent_id, agent_rate), clock, stop)

    def wait_request(self, clock: Clock, stop: StopCheck | None = None) -> bool:
        return wait_for(self.acquire_request, clock, stop)


# --- in one process ---------------------------------------------------------------------------

_CALLS = ("account", "calls")
_REQUESTS = ("account", "requests")


class LocalLimiter(_Waiting):
    """The embedded mode's limiter: TATs in a dict behind a lock, time from `clock`."""

    def __init__(self, call_limit: Rate, request_limit: Rate, clock: Clock) -> None:
        self._clock = clock
        self._call_interval_us = interval_us(call_limit)
        self._request_interval_us = interval_us(request_limit)
        self._tat_us: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def acquire_call(self, agent_id: str, agent_rate: Rate | None) -> float:
        limits = [(_CALLS, self._call_interval_us), (_REQUESTS, self._request_interval_us)]
        if agent_rate is not None:
            limits.append((("agent", agent_id), interval_us(agent_rate)))
        return self._acquire(limits)

    def acquire_request(self) -> float:
        return self._acquire([(_REQUESTS, self._request_interval_us)])

    def push_back(self, until: float) -> None:
        until_us = to_us(until)
        with self._lock:
            for name in (_CALLS, _REQUESTS):
                self._tat_us[name] = max(self._tat_us.get(name, until_us), until_us)

    def _acquire(self, limits: Sequence[tuple[tuple[str, str], int]]) -> float:
        with self._lock:
            now_us = to_us(self._clock.now())
            tats_us = [max(self._tat_us.get(name, now_us), now_us) for name, _ in limits]
            wait_us = max(tats_us) - now_us
            if wait_us > 0:
                return wait_us / US_PER_S
            for (name, step_us), tat_us in zip(limits, tats_us, strict=True):
                self._tat_us[name] = tat_us + step_us
            return 0.0


# --- shared through Redis -----------------------------------------------------------------------

# KEYS: the limits' TAT keys; ARGV: their intervals (us), in the same order.
# Returns 0 when every limit was consumed, else the wait (us) and nothing is written.
# TATs are written with %d: a plain number would be sent as a float and could lose digits.
_ACQUIRE_LUA = """
local t = redis.call('TIME')
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tats_us = {}
local wait_us = 0
for i, key in ipairs(KEYS) do
  local tat_us = math.max(tonumber(redis.call('GET', key)) or now_us, now_us)
  tats_us[i] = tat_us
  wait_us = math.max(wait_us, tat_us - now_us)
end
if wait_us > 0 then
  return wait_us
end
for i, key in ipairs(KEYS) do
  local tat_us = tats_us[i] + tonumber(ARGV[i])
  local ttl_ms = math.ceil((tat_us - now_us) / 1000)
  redis.call('SET', key, string.format('%d', tat_us), 'PX', ttl_ms)
end
return 0
"""

# KEYS: TAT keys; ARGV[1]: the instant (us since epoch) before which nothing may pass.
# Only ever moves a TAT forward: a late or repeated push-back cannot undo pacing.
_PUSH_BACK_LUA = """
local t = redis.call('TIME')
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local until_us = tonumber(ARGV[1])
if until_us <= now_us then
  return 0
end
local ttl_ms = math.ceil((until_us - now_us) / 1000)
for _, key in ipairs(KEYS) do
  local tat_us = tonumber(redis.call('GET', key)) or 0
  if tat_us < until_us then
    redis.call('SET', key, string.format('%d', until_us), 'PX', ttl_ms)
  end
end
return 0
"""


class RedisLimiter(_Waiting):
    """The cluster mode's limiter: one TAT key per limit, checked and consumed by one script."""

    def __init__(
        self,
        redis: Redis[Any],
        keys: RedisKeys,
        account: str,
        call_limit: Rate,
        request_limit: Rate,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._account = account
        self._call_interval_us = interval_us(call_limit)
        self._request_interval_us = interval_us(request_limit)
        self._acquire_script = redis.register_script(_ACQUIRE_LUA)
        self._push_back_script = redis.register_script(_PUSH_BACK_LUA)

    def acquire_call(self, agent_id: str, agent_rate: Rate | None) -> float:
        keys = [self._keys.limit_calls(self._account), self._keys.limit_requests(self._account)]
        intervals_us = [self._call_interval_us, self._request_interval_us]
        if agent_rate is not None:
            keys.append(self._keys.limit_agent(self._account, agent_id))
            intervals_us.append(interval_us(agent_rate))
        return self._run(self._acquire_script, keys, intervals_us) / US_PER_S

    def acquire_request(self) -> float:
        keys = [self._keys.limit_requests(self._account)]
        return self._run(self._acquire_script, keys, [self._request_interval_us]) / US_PER_S

    def push_back(self, until: float) -> None:
        keys = [self._keys.limit_calls(self._account), self._keys.limit_requests(self._account)]
        self._run(self._push_back_script, keys, [to_us(until)])

    def _run(self, script: Script, keys: list[str], args: list[int]) -> int:
        """Run a script; Redis failures become a `StoreError` that says what to do."""
        try:
            return int(script(keys=keys, args=args))
        except (RedisConnectionError, RedisTimeoutError) as exc:
            raise StoreError(
                f"The limiter cannot reach Redis ({exc}): start Redis or fix REDIS_URL, "
                "or unset REDIS_URL to run in embedded mode."
            ) from exc
        except RedisError as exc:
            raise StoreError(
                f"Redis refused the limiter's script ({exc}): REDIS_URL must point to a "
                "writable Redis 5 or later."
            ) from exc
