"""Measurement 1, pacing: a backlog of rows, an agent `--rate` above a lower account call
limit, so the allowed rate is the account limit. Who uses it all, and who goes over it?

Each subject dials the same backlog on its own instant simulator (quotas off: the subject's
own pacing is all that limits it); the creation times come from the simulator's audit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import redis

from dialer.simulator.server import SimulatorHandle
from tests.bench.celery_ratelimit import PLACE_CALL
from tests.bench.celery_runs import CeleryBench, send
from tests.bench.celery_runs import start_workers as start_celery_workers
from tests.bench.dialer_runs import (
    DialerSetup,
    campaign_ended,
    campaign_slots,
    start_embedded,
    start_workers,
    submit,
    wait_for_calls,
)
from tests.bench.plain_loop import POLL_EVERY_S, run_plain_loop
from tests.bench.procs import BenchTimeout, Processes, timed, wait_until
from tests.bench.redis_db import BenchDbs, db_url, own_db
from tests.bench.results import (
    CELERY_RATE_LIMIT,
    CLUSTER_1,
    CLUSTER_2,
    CLUSTER_3,
    EMBEDDED,
    PLAIN_LOOP,
    Figure,
    Target,
)
from tests.bench.sims import (
    AGENT_ID,
    INSTANT_SPEED,
    calls_created,
    created_times,
    instant_simulator,
    new_api_key,
    numbers,
    phoned_twice,
    write_contacts,
)
from tests.bench.windows import Pacing, bound_for, pacing_of

NO_REQUEST_LIMIT = "1000000/s"
CLUSTER_COLUMNS = {1: CLUSTER_1, 2: CLUSTER_2, 3: CLUSTER_3}
SHARE_TARGET = Target("0.98-1.01", {"share": (0.98, 1.01)})
TWICE_TARGET = Target("0", {"numbers": (None, 0)})


@dataclass(frozen=True)
class PacingSetup:
    rows: int
    agent_rate_per_s: float = 25.0  # `--rate`: above the account's limit
    account_rate_per_s: float = 20.0  # VOXPRIA_CALL_LIMIT: the allowed rate
    windows_s: tuple[float, ...] = (1.0, 5.0)
    cluster_workers: tuple[int, ...] = (1, 3)  # in this order, adding workers to the first

    @property
    def deadline_s(self) -> float:
        return self.rows / self.account_rate_per_s * 3 + 30


@dataclass(frozen=True)
class PacingRun:
    column: str
    pacing: Pacing
    phoned_twice: int
    note: str = ""


def measure(setup: PacingSetup, work: Path, dbs: BenchDbs) -> tuple[list[Figure], dict[str, Any]]:
    with timed("embedded"):
        runs = [_embedded(setup, work)]
    with timed(f"cluster, {setup.cluster_workers} workers"):
        runs += _cluster(setup, work, dbs.cluster)
    with timed("Celery rate_limit"):
        runs.append(_celery_rate_limit(setup, work, dbs.celery))
    with timed("plain loop"):
        runs.append(_plain_loop(setup))
    detail = {"setup": setup.__dict__, "runs": [_run_detail(r) for r in runs]}
    return [f for r in runs for f in _figures(setup, r)], detail


def _dialer_setup(setup: PacingSetup, base_url: str, key: str, home: Path) -> DialerSetup:
    return DialerSetup(
        base_url,
        key,
        home,
        call_limit=f"{setup.account_rate_per_s:g}/s",
        request_limit=NO_REQUEST_LIMIT,  # default poll intervals: polls stay rare, as in use
    )


def _embedded(setup: PacingSetup, work: Path) -> PacingRun:
    key, nums = new_api_key(), numbers(setup.rows)
    with instant_simulator(key) as sim, Processes(work / "logs") as procs:
        dialer = _dialer_setup(setup, sim.base_url, key, work / "pacing-embedded")
        contacts = write_contacts(work / "pacing-embedded.csv", nums)
        proc = start_embedded(
            procs, dialer, contacts, campaign="pacing", max_active=setup.rows, rate=_agent(setup)
        )
        wait_for_calls(sim, setup.rows, setup.deadline_s, "embedded pacing", watch=[proc])
        return PacingRun(EMBEDDED, _pacing(setup, created_times(sim)), phoned_twice(sim))


def _cluster(setup: PacingSetup, work: Path, db: int) -> list[PacingRun]:
    """One campaign per worker count, the workers added between campaigns."""
    key, runs, running, previous = new_api_key(), [], 0, ""
    with own_db(db) as client, instant_simulator(key) as sim, Processes(work / "logs") as procs:
        dialer = _dialer_setup(setup, sim.base_url, key, work / "pacing-cluster")
        dialer = replace(dialer, redis_url=db_url(db))
        for n, workers in enumerate(setup.cluster_workers):
            if n > 0:  # the previous campaign's shifts must not share the workers
                wait_until(partial(campaign_ended, client, previous), 90, f"{previous} to end")
            start_workers(procs, dialer, workers - running, tag=f"pacing{n}")
            running, previous = workers, _campaign(workers)
            runs.append(_cluster_campaign(setup, work, dialer, client, sim, workers, n))
    return runs


def _cluster_campaign(
    setup: PacingSetup,
    work: Path,
    dialer: DialerSetup,
    client: redis.Redis[str],
    sim: SimulatorHandle,
    workers: int,
    n: int,
) -> PacingRun:
    """The n-th campaign (its own numbers, on the same simulator), until its last call."""
    nums = numbers(setup.rows, start=n * setup.rows)
    contacts = write_contacts(work / f"pacing-{workers}w.csv", nums)
    campaign = _campaign(workers)
    submit(dialer, contacts, campaign=campaign, max_active=setup.rows, rate=_agent(setup))
    wait_for_calls(sim, setup.rows, setup.deadline_s, campaign, nums=set(nums))
    slots = campaign_slots(client, campaign)
    return PacingRun(
        CLUSTER_COLUMNS[workers],
        _pacing(setup, created_times(sim, set(nums))),
        phoned_twice(sim),
        note=f"{workers} `dialer worker` process(es), {slots} shifts at once",
    )


def _celery_rate_limit(setup: PacingSetup, work: Path, db: int) -> PacingRun:
    """The backlog as one task per row, `rate_limit` set to the account's limit, 2 workers.
    Observed for 1.5 times the backlog's due time: Celery on Redis can slow to a crawl on a
    rate-limited backlog (celery/celery#5927), and the bench does not wait for that."""
    key = new_api_key()
    with own_db(db), instant_simulator(key) as sim, Processes(work / "logs") as procs:
        bench = CeleryBench(db_url(db), f"{setup.account_rate_per_s:g}/s", sim.base_url, key)
        send(bench.app(), PLACE_CALL, [[AGENT_ID, n] for n in numbers(setup.rows)])
        start_celery_workers(procs, bench, 2, tag="ratelimit")
        observe_s = setup.rows / setup.account_rate_per_s * 1.5 + 5
        note = f"rate_limit={bench.rate_limit} on the task, per worker process"
        try:
            wait_for_calls(sim, setup.rows, observe_s, "Celery rate_limit pacing")
            until_s = None
        except BenchTimeout:
            until_s = time.time()  # the simulator's clock
            note += f"; cut after {observe_s:g} s with {calls_created(sim)} calls made"
        times = created_times(sim)
        pacing = pacing_of(times, setup.account_rate_per_s, setup.windows_s, until_s)
        return PacingRun(CELERY_RATE_LIMIT, pacing, phoned_twice(sim), note)


def _plain_loop(setup: PacingSetup) -> PacingRun:
    """POST, follow to the end, sleep 1/limit: sequential, in the bench process."""
    key = new_api_key()
    with instant_simulator(key) as sim:
        run_plain_loop(
            sim.base_url,
            key,
            numbers(setup.rows),
            call_interval_s=1 / setup.account_rate_per_s,
            poll_every_s=POLL_EVERY_S / INSTANT_SPEED,
            deadline_s=setup.deadline_s,
        )
        note = f"sleeps {1 / setup.account_rate_per_s:g} s after each call"
        return PacingRun(PLAIN_LOOP, _pacing(setup, created_times(sim)), phoned_twice(sim), note)


def _campaign(workers: int) -> str:
    return f"pacing-{workers}w"


def _agent(setup: PacingSetup) -> str:
    return f"{setup.agent_rate_per_s:g}/s"


def _pacing(setup: PacingSetup, times_s: list[float]) -> Pacing:
    return pacing_of(times_s, setup.account_rate_per_s, setup.windows_s)


def _figures(setup: PacingSetup, run: PacingRun) -> list[Figure]:
    p = run.pacing
    figures = [
        Figure(
            "pacing: share of allowed rate",
            run.column,
            {"share": p.share},
            f"{p.share:.3f}",
            SHARE_TARGET,
            run.note,
        )
    ]
    for window_s, starts in p.worst_by_window_s.items():
        bound = bound_for(setup.account_rate_per_s, window_s)
        figures.append(
            Figure(
                f"pacing: max starts in {window_s:g} s",
                run.column,
                {"starts": starts, "bound": bound},
                f"{starts}",
                Target(f"<= {bound:g}", {"starts": (None, bound)}),
            )
        )
    figures.append(
        Figure(
            "pacing: numbers phoned twice",
            run.column,
            {"numbers": run.phoned_twice},
            str(run.phoned_twice),
            TWICE_TARGET,
        )
    )
    return figures


def _run_detail(run: PacingRun) -> dict[str, Any]:
    p = run.pacing
    return {
        "column": run.column,
        "calls": p.calls,
        "span_s": p.span_s,
        "allowed_rate_per_s": p.rate_per_s,
        "share": p.share,
        "worst_by_window_s": {f"{w:g}": n for w, n in p.worst_by_window_s.items()},
        "phoned_twice": run.phoned_twice,
        "note": run.note,
    }
