"""The one limiter: every call and request the account makes passes here first.

GCRA (generic cell rate algorithm) with a burst of 1: each limit keeps a theoretical arrival
time (TAT). An event at `now` may pass when `TAT <= now`, and then `TAT = max(TAT, now) +
interval`. Over any `w` seconds at most `rate * w + 1` events pass, whoever shares the TAT.

A POST /calls consumes three limits in one atomic step: the agent's `--rate`, the account call
limit and the account request limit (it is a request too). Either all are consumed (the answer is
0.0) or none is, and the answer is the seconds until all would allow it, so nobody spins and a
failed attempt never burns a slot of another limit.

Three backends answer the same `Limiter` protocol:
- `LocalLimiter`: one process, a lock, the injected clock.
- `SharedFileLimiter`: every embedded process on one machine that shares a state folder (a run,
  the page's campaigns, scheduled runs): the TATs in a small SQLite file, each acquire one
  IMMEDIATE transaction, so two processes never both take the same slot.
- `RedisLimiter`: every worker of the cluster, one Lua script on the Redis server's clock (TIME),
  so machines with skewed clocks still share one timeline.

Times are integer microseconds: milliseconds would round an interval such as 1/7 s and either
exceed the rate (rounded down) or waste it (rounded up) on every event.
"""

from __future__ import annotations

import math
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

from redis import ConnectionError as RedisConnectionError
from redis import Redis, RedisError
from redis import TimeoutError as RedisTimeoutError
from redis.commands.core import Script

from dialer.clock import Clock
from dialer.errors import StoreError
from dialer.keys import RedisKeys
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
            return gcra_step(self._tat_us, limits, to_us(self._clock.now())) / US_PER_S


def gcra_step(tat_us: dict[Any, int], limits: Sequence[tuple[Any, int]], now_us: int) -> int:
    """One all-or-none GCRA step over `tat_us` (updated in place when every limit allows):
    0, or the microseconds to wait."""
    tats_us = [max(tat_us.get(name, now_us), now_us) for name, _ in limits]
    wait_us = max(tats_us) - now_us
    if wait_us > 0:
        return wait_us
    for (name, step_us), tat in zip(limits, tats_us, strict=True):
        tat_us[name] = tat + step_us
    return 0


# --- shared by the processes of one machine -----------------------------------------------------


class SharedFileLimiter(_Waiting):
    """The embedded mode's limiter, shared by every process using one state folder: the TATs
    live in a SQLite file (`path`), read and written in one IMMEDIATE transaction per acquire.
    Its contents only pace: losing the file costs at most one burst, so it is not fsynced."""

    def __init__(
        self, path: Path, account: str, call_limit: Rate, request_limit: Rate, clock: Clock
    ) -> None:
        self._clock = clock
        self._calls = f"{account}:calls"
        self._requests = f"{account}:requests"
        self._agent = f"{account}:agent:"
        self._call_interval_us = interval_us(call_limit)
        self._request_interval_us = interval_us(request_limit)
        self._lock = threading.Lock()
        try:
            os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
            self._db = sqlite3.connect(
                str(path), isolation_level=None, check_same_thread=False, timeout=30.0
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=OFF")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS tat (name TEXT PRIMARY KEY, tat_us INTEGER NOT NULL)"
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(
                f"Cannot open the limiter file {path}: {exc}. Check that the state folder "
                "(DIALER_HOME) is writable."
            ) from exc

    def close(self) -> None:
        self._db.close()

    def acquire_call(self, agent_id: str, agent_rate: Rate | None) -> float:
        limits = [
            (self._calls, self._call_interval_us),
            (self._requests, self._request_interval_us),
        ]
        if agent_rate is not None:
            limits.append((self._agent + agent_id, interval_us(agent_rate)))
        return self._acquire(limits)

    def acquire_request(self) -> float:
        return self._acquire([(self._requests, self._request_interval_us)])

    def push_back(self, until: float) -> None:
        until_us = to_us(until)
        with self._transaction() as db:
            for name in (self._calls, self._requests):
                db.execute(
                    "INSERT INTO tat (name, tat_us) VALUES (?, ?) ON CONFLICT(name) DO UPDATE "
                    "SET tat_us=MAX(tat_us, excluded.tat_us)",
                    (name, until_us),
                )

    def _acquire(self, limits: Sequence[tuple[str, int]]) -> float:
        names = [name for name, _ in limits]
        with self._transaction() as db:
            rows = db.execute(
                f"SELECT name, tat_us FROM tat WHERE name IN ({','.join('?' * len(names))})",
                names,
            ).fetchall()
            tats: dict[str, int] = {str(n): int(t) for n, t in rows}
            wait_us = gcra_step(tats, limits, to_us(self._clock.now()))
            if wait_us == 0:
                db.executemany(
                    "INSERT OR REPLACE INTO tat (name, tat_us) VALUES (?, ?)",
                    [(n, tats[n]) for n in names],
                )
        return wait_us / US_PER_S

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"The limiter file is locked or broken: {exc}.") from exc
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")


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
