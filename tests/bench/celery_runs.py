"""Running the bench's Celery app (`celery_ratelimit`): workers as real processes, tasks sent
from the bench process, and how many are left in the broker."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import redis
from celery import Celery
from celery.utils.nodenames import host_format

from tests.bench.celery_ratelimit import make_app
from tests.bench.procs import Processes, say, wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
# A queue of the bench's own, not Celery's default "celery": any other worker left on the same
# database (one without a queue of its own) consumes "celery" and would take, and drop, the
# bench's tasks as unregistered ones.
DEFAULT_QUEUE = "bench-calls"
UNACKED = "unacked"  # kombu's hash of messages delivered and not yet acknowledged
WORKER_READY_TIMEOUT_S = 60.0
PING_TIMEOUT_S = 0.3


@dataclass(frozen=True)
class CeleryBench:
    broker_url: str
    rate_limit: str | None = None  # e.g. "20/s" on bench.place_call
    base_url: str = ""
    api_key: str = ""

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
        env.update(BENCH_BROKER_URL=self.broker_url, BENCH_BASE_URL=self.base_url)
        env.update(BENCH_API_KEY=self.api_key)
        if self.rate_limit:
            env["BENCH_RATE_LIMIT"] = self.rate_limit
        return env

    def app(self) -> Celery:
        return make_app(self.broker_url, self.rate_limit)


def start_workers(
    procs: Processes, bench: CeleryBench, count: int, tag: str, queue: str = DEFAULT_QUEUE
) -> list[str]:
    """`count` worker processes (`--concurrency 1`, each its own node name, Celery's default
    log level) consuming `queue`; returns their node names once each of them answers a ping.
    Only these nodes are asked: another worker on the same broker must not pass for one."""
    nodes = [host_format(f"{tag}{i}@%h") for i in range(count)]
    for i, node in enumerate(nodes):
        argv = [sys.executable, "-m", "celery", "-A", "tests.bench.celery_ratelimit", "worker"]
        argv += ["--concurrency", "1", "--loglevel", "WARNING", "-n", node, "-Q", queue]
        argv += ["--without-gossip", "--without-mingle"]  # as `dialer worker` runs
        procs.start(f"celery-{tag}-{i}", argv, bench.env(), cwd=REPO_ROOT)
    app = bench.app()
    waited_s = wait_until(
        lambda: len(app.control.ping(destination=nodes, timeout=PING_TIMEOUT_S)) >= count,
        WORKER_READY_TIMEOUT_S,
        f"{count} Celery workers to start",
        interval_s=0.0,
    )
    say(f"  {count} Celery workers ready in {waited_s:.1f} s")
    return nodes


def send(app: Celery, task: str, args_list: list[list[str]], queue: str = DEFAULT_QUEUE) -> None:
    """Enqueue one task per argument list on `queue`, over one connection."""
    with app.producer_or_acquire() as producer:
        for args in args_list:
            app.send_task(task, args=args, queue=queue, producer=producer)


def remaining(client: redis.Redis[str], queue: str) -> int:
    """Tasks of `queue` not yet taken by a worker, plus any taken and not acknowledged."""
    return int(client.llen(queue)) + int(client.hlen(UNACKED))
