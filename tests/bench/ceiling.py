"""Measurement 3, ceiling: calls created per second with no limits on an instant simulator,
embedded and on two `dialer worker` processes, beside a bare Celery task that does nothing on
the same Redis and two worker processes: the most any Celery-based dialer could reach here.

The dialer keeps its default poll intervals (10 s to 60 s: calls last minutes in real life) and
a max-active as large as the backlog; a run is measured from its first call to its last, and
stopped once every call is created. The no-op tasks are enqueued before their workers start and
counted from the moment both workers answer until the broker holds none.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import redis

from tests.bench.celery_ratelimit import NOOP
from tests.bench.celery_runs import CeleryBench, remaining, send
from tests.bench.celery_runs import start_workers as start_celery_workers
from tests.bench.dialer_runs import (
    DialerSetup,
    campaign_slots,
    start_embedded,
    start_workers,
    submit,
    wait_for_calls,
)
from tests.bench.procs import BenchTimeout, Processes, timed
from tests.bench.redis_db import BenchDbs, db_url, own_db
from tests.bench.results import CELERY_NOOP, CLUSTER_2, EMBEDDED, Figure, Target
from tests.bench.sims import created_times, instant_simulator, new_api_key, numbers, write_contacts
from tests.bench.windows import events_per_s

NO_LIMIT = "1000000/s"
SHARE_TARGET = Target(">= 0.25 (2w)", {"share": (0.25, None)})
WORKERS = 2  # worker processes, for the dialer and the no-op alike
NOOP_QUEUE, IDLE_QUEUE = "bench-noop", "bench-idle"
SAMPLE_EVERY_S = 0.02  # finer sampling costs the workers Redis time (2 ms: -25 %)


@dataclass(frozen=True)
class CeilingSetup:
    dialer_calls: int
    noop_tasks: int

    @property
    def deadline_s(self) -> float:
        return self.dialer_calls / 20 + 60


@dataclass(frozen=True)
class Ceiling:
    column: str
    per_s: float
    count: int
    note: str = ""


def measure(setup: CeilingSetup, work: Path, dbs: BenchDbs) -> tuple[list[Figure], dict[str, Any]]:
    with timed("Celery no-op"):
        noop = _celery_noop(setup, dbs.celery, work)
    with timed("embedded"):
        runs = [_embedded(setup, work)]
    with timed("cluster"):
        runs += [_cluster(setup, dbs.cluster, work), noop]
    detail = {"setup": setup.__dict__, "runs": [r.__dict__ for r in runs]}
    return [f for r in runs for f in _figures(r, noop.per_s)], detail


def _dialer_setup(base_url: str, key: str, home: Path) -> DialerSetup:
    return DialerSetup(base_url, key, home, call_limit=NO_LIMIT, request_limit=NO_LIMIT)


def _embedded(setup: CeilingSetup, work: Path) -> Ceiling:
    key, n = new_api_key(), setup.dialer_calls
    with instant_simulator(key) as sim, Processes(work / "logs") as procs:
        dialer = _dialer_setup(sim.base_url, key, work / "ceiling-embedded")
        contacts = write_contacts(work / "ceiling-embedded.csv", numbers(n))
        proc = start_embedded(procs, dialer, contacts, campaign="ceiling", max_active=n)
        wait_for_calls(sim, n, setup.deadline_s, "embedded ceiling", watch=[proc])
        return Ceiling(EMBEDDED, events_per_s(created_times(sim)), n)


def _cluster(setup: CeilingSetup, db: int, work: Path) -> Ceiling:
    key, n = new_api_key(), setup.dialer_calls
    with own_db(db) as client, instant_simulator(key) as sim, Processes(work / "logs") as procs:
        dialer = _dialer_setup(sim.base_url, key, work / "ceiling-cluster")
        dialer = replace(dialer, redis_url=db_url(db))
        start_workers(procs, dialer, WORKERS, tag="ceiling")
        contacts = write_contacts(work / "ceiling-cluster.csv", numbers(n))
        submit(dialer, contacts, campaign="ceiling", max_active=n, rate=None)
        wait_for_calls(sim, n, setup.deadline_s, "cluster ceiling")
        note = f"{campaign_slots(client, 'ceiling')} shifts at once"
        return Ceiling(CLUSTER_2, events_per_s(created_times(sim)), n, note)


def _celery_noop(setup: CeilingSetup, db: int, work: Path) -> Ceiling:
    """The tasks wait on a queue the workers do not consume until both are up; then both are
    told at once to consume it (they start about half a second later: not counted), and the
    clock runs from the first task taken until the broker holds none."""
    with own_db(db) as client, Processes(work / "logs") as procs:
        bench = CeleryBench(db_url(db))
        app = bench.app()
        send(app, NOOP, [[] for _ in range(setup.noop_tasks)], queue=NOOP_QUEUE)
        nodes = start_celery_workers(procs, bench, WORKERS, tag="noop", queue=IDLE_QUEUE)
        # told to the bench's own workers only: any other worker on this Redis stays out
        app.control.add_consumer(NOOP_QUEUE, destination=nodes, reply=False)
        app.control.cancel_consumer(IDLE_QUEUE, destination=nodes, reply=False)  # one queue each
        counted, elapsed_s = _drain(client, setup.noop_tasks, setup.deadline_s)
        note = f"{counted} of {setup.noop_tasks} tasks timed, from the first one taken"
        return Ceiling(CELERY_NOOP, counted / elapsed_s, counted, note)


def _drain(client: redis.Redis[str], total: int, timeout_s: float) -> tuple[int, float]:
    """(tasks left when the first was taken, seconds from then until none is left)."""
    deadline = time.monotonic() + timeout_s
    while (left := remaining(client, NOOP_QUEUE)) >= total:
        _sample_before(deadline)
    started = time.monotonic()
    while remaining(client, NOOP_QUEUE) > 0:
        _sample_before(deadline)
    return left, max(time.monotonic() - started, SAMPLE_EVERY_S)


def _sample_before(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise BenchTimeout("the no-op tasks were not done in time")
    time.sleep(SAMPLE_EVERY_S)


def _figures(run: Ceiling, noop_per_s: float) -> list[Figure]:
    figures = [
        Figure(
            "ceiling: calls/s (no-op: tasks/s)",
            run.column,
            {"per_s": run.per_s},
            f"{run.per_s:.0f}",
            note=run.note,
        )
    ]
    if run.column != CELERY_NOOP and noop_per_s > 0:
        share = run.per_s / noop_per_s
        figures.append(
            Figure(
                "ceiling: share of the no-op",
                run.column,
                {"share": share},
                f"{share:.2f}",
                SHARE_TARGET if run.column == CLUSTER_2 else None,
            )
        )
    return figures
