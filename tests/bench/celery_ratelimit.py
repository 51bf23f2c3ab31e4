"""Bench-only Celery app: the alternatives the dialer is compared with.

- `bench.place_call`: what a user would write with Celery's own `rate_limit`: one task per
  contact that POSTs /calls. The limit is per worker process, so two workers start about twice
  the rate (DESIGN.md).
- `bench.noop`: a task that does nothing, the ceiling of Celery itself on this Redis.

Workers run it as `python -m celery -A tests.bench.celery_ratelimit worker`, configured by the
environment: BENCH_BROKER_URL, BENCH_RATE_LIMIT (e.g. `20/s`), BENCH_BASE_URL, BENCH_API_KEY.
The bench process sends tasks through `make_app(broker_url)`.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
from celery import Celery

PLACE_CALL = "bench.place_call"
NOOP = "bench.noop"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/13"
_http: dict[int, httpx.Client] = {}  # one client per worker process


def _client() -> httpx.Client:
    pid = os.getpid()
    if pid not in _http:
        _http[pid] = httpx.Client(
            base_url=os.environ["BENCH_BASE_URL"],
            headers={"Authorization": f"Bearer {os.environ['BENCH_API_KEY']}"},
            timeout=10.0,
        )
    return _http[pid]


def place_call(agent_id: str, to_number: str) -> None:
    answer = _client().post("/calls", json={"agentId": agent_id, "toNumber": to_number})
    answer.raise_for_status()


def noop() -> None:
    return None


def make_app(broker_url: str, rate_limit: str | None = None) -> Celery:
    app = Celery("bench", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
    )
    task: Any = app.task
    task(name=PLACE_CALL, rate_limit=rate_limit)(place_call)
    task(name=NOOP)(noop)
    return app


app = make_app(
    os.environ.get("BENCH_BROKER_URL", DEFAULT_BROKER_URL), os.environ.get("BENCH_RATE_LIMIT")
)
