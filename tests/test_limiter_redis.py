"""RedisLimiter's Lua scripts on fakeredis and on a real Redis: the LocalLimiter's contract, key
expiry, errors; and four processes sharing one rate on the real one.

Time here is real (the script reads the Redis server's clock), so limits are chosen slow enough
that the few milliseconds between two calls of a test do not matter, or fast enough to wait out.
Without a real Redis (tests/redis_support.py) those tests skip, except under CI, where they fail.
"""

from __future__ import annotations

import json
import math
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from dialer.clock import SystemClock
from dialer.errors import StoreError
from dialer.keys import RedisKeys
from dialer.limiter import RedisLimiter
from dialer.settings import Rate
from tests.redis_support import RedisSpace

ACCOUNT = "acct"
SLOW = Rate(1, 60)
FAST = Rate(1000, 1)
HAMMER = Path(__file__).with_name("limiter_hammer.py")
# Tests that time milliseconds between calls: on the real server only (its round trips are short
# and steady; fakeredis runs in this process, which a loaded machine pauses).
REAL_ONLY = pytest.mark.parametrize(
    "redis_space", [pytest.param("redis", marks=pytest.mark.integration)], indirect=True
)


@pytest.fixture
def client(redis_space: RedisSpace) -> redis.Redis[Any]:
    """fakeredis, then the real Redis (conftest's `redis_space`)."""
    return redis_space.client


@pytest.fixture
def keys(redis_space: RedisSpace) -> RedisKeys:
    return redis_space.keys


def make(
    client: redis.Redis[Any], keys: RedisKeys, call: Rate = FAST, request: Rate = FAST
) -> RedisLimiter:
    return RedisLimiter(client, keys, ACCOUNT, call_limit=call, request_limit=request)


def tats(client: redis.Redis[Any], keys: RedisKeys, agent_id: str) -> list[Any]:
    names = [keys.limit_calls(ACCOUNT), keys.limit_requests(ACCOUNT)]
    return [client.get(name) for name in [*names, keys.limit_agent(ACCOUNT, agent_id)]]


def test_calls_are_spaced_by_the_call_limit(client: redis.Redis[Any], keys: RedisKeys) -> None:
    limiter = make(client, keys, call=SLOW)
    assert limiter.acquire_call("a", None) == 0.0
    assert 59 < limiter.acquire_call("b", None) <= 60


def test_a_refused_call_consumes_no_limit(client: redis.Redis[Any], keys: RedisKeys) -> None:
    # account limits that keep their TAT (1 s) longer than the test takes
    limiter = make(client, keys, call=Rate(1, 1), request=Rate(1, 1))
    assert limiter.acquire_call("a", SLOW) == 0.0
    before = tats(client, keys, "a")
    assert 59 < limiter.acquire_call("a", SLOW) <= 60
    assert tats(client, keys, "a") == before


def test_a_call_is_a_request_and_waits_for_the_request_limit(
    client: redis.Redis[Any], keys: RedisKeys
) -> None:
    limiter = make(client, keys, request=SLOW)
    assert limiter.acquire_request() == 0.0
    assert 59 < limiter.acquire_call("a", Rate(1, 10)) <= 60
    assert client.exists(keys.limit_calls(ACCOUNT), keys.limit_agent(ACCOUNT, "a")) == 0


def test_the_answer_is_the_longest_of_the_waits(client: redis.Redis[Any], keys: RedisKeys) -> None:
    limiter = make(client, keys, call=SLOW, request=Rate(2, 60))
    assert limiter.acquire_call("a", Rate(1, 10)) == 0.0
    assert 59 < limiter.acquire_call("a", Rate(1, 10)) <= 60
    assert 29 < limiter.acquire_request() <= 30


@REAL_ONLY
def test_keys_expire_once_their_time_has_passed(client: redis.Redis[Any], keys: RedisKeys) -> None:
    limiter = make(client, keys, call=SLOW, request=Rate(20, 1))
    assert limiter.acquire_call("a", Rate(2, 1)) == 0.0
    assert 59_000 < client.pttl(keys.limit_calls(ACCOUNT)) <= 60_000
    assert 0 < client.pttl(keys.limit_requests(ACCOUNT)) <= 50
    time.sleep(0.06)
    assert not client.exists(keys.limit_requests(ACCOUNT))
    assert client.exists(keys.limit_agent(ACCOUNT, "a"))


def test_push_back_holds_calls_and_requests_until_the_reset(
    client: redis.Redis[Any], keys: RedisKeys
) -> None:
    limiter = make(client, keys)
    limiter.push_back(time.time() + 30)
    assert 29 < limiter.acquire_call("a", None) <= 30
    assert 29 < limiter.acquire_request() <= 30
    limiter.push_back(time.time() + 10)  # only ever forward
    assert 29 < limiter.acquire_request() <= 30
    assert 29_000 < client.pttl(keys.limit_calls(ACCOUNT)) <= 30_000


def test_push_back_to_the_past_writes_nothing(client: redis.Redis[Any], keys: RedisKeys) -> None:
    make(client, keys).push_back(time.time() - 5)
    assert not list(client.scan_iter(match=f"{keys.prefix}:*"))


class RecordingClock(SystemClock):
    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        super().sleep(seconds)


@REAL_ONLY
def test_wait_call_sleeps_the_answered_waits(client: redis.Redis[Any], keys: RedisKeys) -> None:
    limiter, clock = make(client, keys, call=Rate(20, 1)), RecordingClock()
    start_s = time.monotonic()
    for _ in range(4):
        assert limiter.wait_call("a", None, clock)
    elapsed_s = time.monotonic() - start_s
    assert 0.14 < elapsed_s < 0.5
    assert 3 <= len(clock.sleeps) <= 5  # one sleep per refusal: no spinning
    assert all(0 < wait_s <= 0.05 for wait_s in clock.sleeps)


def test_wait_request_returns_false_once_stopped(client: redis.Redis[Any], keys: RedisKeys) -> None:
    limiter = make(client, keys, request=SLOW)
    assert not limiter.wait_request(RecordingClock(), stop=lambda: True)
    assert limiter.acquire_request() == 0.0


def test_unreachable_redis_is_a_store_error_naming_redis_url() -> None:
    no_retry = Retry(NoBackoff(), retries=0)  # the default retries would take seconds
    unreachable = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1, retry=no_retry)
    limiter = make(unreachable, RedisKeys(prefix="test-lim-unreachable"))
    with pytest.raises(StoreError, match="REDIS_URL"):
        limiter.acquire_call("a", None)
    with pytest.raises(StoreError, match="REDIS_URL"):
        limiter.push_back(time.time() + 1)


# --- four processes, one rate ---------------------------------------------------------------------


def max_starts_in_window(starts_s: list[float], window_s: float) -> int:
    """The most starts inside any closed window [t, t + window_s] (sliding over every start)."""
    most, first = 0, 0
    for last, start_s in enumerate(starts_s):
        while start_s - starts_s[first] > window_s:
            first += 1
        most = max(most, last - first + 1)
    return most


def read_line(child: subprocess.Popen[str], deadline: float) -> str:
    """One line of the child's output, or TimeoutError at `deadline` (epoch seconds)."""
    assert child.stdout is not None
    readable, _, _ = select.select([child.stdout], [], [], max(0.0, deadline - time.time()))
    if not readable:
        raise TimeoutError("a limiter_hammer process did not answer in time")
    return child.stdout.readline()


def run_hammers(
    space: RedisSpace, agent_rate: Rate, call_limit: Rate, duration_s: float, processes: int
) -> list[list[float]]:
    """Start the processes together once all are ready, wait for them with a deadline; the
    instants at which each placed a call."""
    assert space.url is not None, "processes share only a real Redis"
    command = [sys.executable, str(HAMMER), "--redis-url", space.url, "--prefix", space.prefix]
    command += ["--agent-rate", str(agent_rate), "--call-limit", str(call_limit)]
    command += ["--duration-s", str(duration_s)]
    pipe = subprocess.PIPE
    children = [
        subprocess.Popen(command, stdin=pipe, stdout=pipe, stderr=pipe, text=True)
        for _ in range(processes)
    ]
    deadline = time.time() + duration_s + 30
    starts_s: list[list[float]] = []
    try:
        for child in children:
            if read_line(child, deadline) != "ready\n":
                pytest.fail(f"limiter_hammer did not start: {child.communicate()[1]}")
        start_at = f"{time.time() + 0.05}\n"
        for child in children:
            assert child.stdin is not None
            child.stdin.write(start_at)
            child.stdin.flush()
        for child in children:
            out, err = child.communicate(timeout=max(0.1, deadline - time.time()))
            assert child.returncode == 0, err
            starts_s.append(json.loads(out))
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    return starts_s


@pytest.mark.integration
def test_four_processes_never_exceed_the_shared_rate_and_use_it(
    make_redis: Callable[[str], RedisSpace],
) -> None:
    # Each start comes a wake-up plus a round trip after its slot opens: 1 to 2 ms on a loaded
    # 2-core machine, so starts 200 ms apart keep that loss near 1% of the rate.
    agent_rate, call_limit = Rate(8, 1), Rate(5, 1)
    rate_per_s = min(agent_rate.per_s, call_limit.per_s)
    space = make_redis("redis")
    per_process = run_hammers(space, agent_rate, call_limit, duration_s=3.0, processes=4)
    starts_s = sorted(start_s for starts in per_process for start_s in starts)
    print(f"starts per process: {[len(starts) for starts in per_process]}")

    for window_s in (0.2, 0.5, 1.0, 2.0):
        bound = math.floor(rate_per_s * window_s + 1e-9) + 1
        most = max_starts_in_window(starts_s, window_s)
        print(f"window {window_s} s: at most {most} starts, bound {bound}")
        assert most <= bound

    # n starts at the full rate span (n - 1) / R: the busy period allowed (n - 1) intervals
    elapsed_s = starts_s[-1] - starts_s[0]
    share = (len(starts_s) - 1) / (rate_per_s * elapsed_s)
    print(f"{len(starts_s)} starts over {elapsed_s:.3f} s: {share:.2%} of {rate_per_s:g}/s used")
    assert share >= 0.98  # the upper side is the windows' bound above
