"""One process of the multi-process limiter test (tests/test_limiter_redis.py).

Once connected it prints `ready` and reads the start instant (epoch seconds) from stdin, so all
processes begin together however slowly they started. For `--duration-s` from then it places
calls for one agent as fast as the shared RedisLimiter lets it (it always has a backlog), then
prints the instants (time.time) at which it acquired, as a JSON list. The loop is bounded by the
deadline, so the process ends by itself.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import redis

from dialer.clock import SystemClock
from dialer.keys import RedisKeys
from dialer.limiter import RedisLimiter
from dialer.settings import Rate


def hammer(
    limiter: RedisLimiter, agent_rate: Rate, start_at: float, duration_s: float
) -> list[float]:
    """Call as fast as the limiter allows from `start_at` for `duration_s`; when each passed."""
    clock = SystemClock()
    clock.sleep(start_at - time.time())
    end_at = start_at + duration_s
    starts: list[float] = []
    while limiter.wait_call("agent-1", agent_rate, clock, stop=lambda: time.time() >= end_at):
        starts.append(time.time())
    return starts


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--agent-rate", required=True)
    parser.add_argument("--call-limit", required=True)
    parser.add_argument("--duration-s", type=float, required=True)
    args = parser.parse_args(argv)
    client = redis.Redis.from_url(args.redis_url)
    limiter = RedisLimiter(
        client,
        RedisKeys(prefix=args.prefix),
        "acct",
        call_limit=Rate.parse(args.call_limit, name="--call-limit"),
        request_limit=Rate(1000, 1),  # not the limit under test
    )
    agent_rate = Rate.parse(args.agent_rate, name="--agent-rate")
    client.ping()
    print("ready", flush=True)
    start_at = float(sys.stdin.readline())
    print(json.dumps(hammer(limiter, agent_rate, start_at, args.duration_s)))


if __name__ == "__main__":
    main(sys.argv[1:])
