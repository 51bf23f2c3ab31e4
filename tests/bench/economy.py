"""Measurement 2, API economy: requests per completed call, polling only (no webhooks), with
every call answered and talking two minutes, time-scaled by the simulator's speed. From it, the
calls per hour that the documented budget of 1,000 requests an hour allows.

The dialer runs as `dialer run` with the documented call limit (100/min) and poll intervals
(10 s to 60 s), both scaled by the speed. The plain loop polls each call every 5 s (scaled).
Every request the simulator received is counted, the dialer's start-up checks included.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bench.dialer_runs import DialerSetup, start_embedded
from tests.bench.plain_loop import POLL_EVERY_S, run_plain_loop
from tests.bench.procs import Processes, timed, wait_until
from tests.bench.results import EMBEDDED, PLAIN_LOOP, Figure, Target
from tests.bench.sims import (
    calls_created,
    new_api_key,
    numbers,
    requests_total,
    two_minute_simulator,
    write_contacts,
)

BUDGET_REQUESTS_PER_H = 1000.0
DOCUMENTED_CALLS_PER_MIN = 100.0
RPC_TARGET = Target("<= 1.5", {"requests_per_call": (None, 1.5)})


@dataclass(frozen=True)
class EconomySetup:
    dialer_calls: int
    plain_loop_calls: int
    speed: float = 120.0  # a 2-minute call lasts one real second
    max_active: int = 100

    @property
    def deadline_s(self) -> float:
        return self.dialer_calls / 10 + 60


@dataclass(frozen=True)
class Economy:
    column: str
    calls: int
    completed: int
    requests: int

    @property
    def requests_per_call(self) -> float:
        return self.requests / max(self.completed, 1)

    @property
    def calls_per_h_on_budget(self) -> float:
        return BUDGET_REQUESTS_PER_H / self.requests_per_call if self.requests else 0.0


def measure(setup: EconomySetup, work: Path) -> tuple[list[Figure], dict[str, Any]]:
    with timed("embedded"):
        runs = [_dialer(setup, work)]
    with timed("plain loop"):
        runs.append(_plain_loop(setup))
    detail = {
        "setup": setup.__dict__,
        "runs": [r.__dict__ | {"requests_per_call": r.requests_per_call} for r in runs],
    }
    return [f for r in runs for f in _figures(r)], detail


def _dialer(setup: EconomySetup, work: Path) -> Economy:
    key, home = new_api_key(), work / "economy-embedded"
    with two_minute_simulator(key, setup.speed) as sim, Processes(work / "logs") as procs:
        dialer = DialerSetup(
            sim.base_url,
            key,
            home,
            call_limit=f"{DOCUMENTED_CALLS_PER_MIN / 60 * setup.speed:g}/s",
            request_limit="1000000/s",
            poll_min_s=10.0 / setup.speed,
            poll_max_s=60.0 / setup.speed,
        )
        contacts = write_contacts(work / "economy.csv", numbers(setup.dialer_calls))
        proc = start_embedded(
            procs, dialer, contacts, campaign="economy", max_active=setup.max_active
        )
        wait_until(lambda: proc.poll() is not None, setup.deadline_s, "the economy run to end")
        if proc.returncode != 0:
            raise RuntimeError(f"dialer run exited with {proc.returncode}: see its log")
        completed = _completed_in_report(home / "economy.csv")
        return Economy(EMBEDDED, calls_created(sim), completed, requests_total(sim))


def _plain_loop(setup: EconomySetup) -> Economy:
    key = new_api_key()
    with two_minute_simulator(key, setup.speed) as sim:
        made = run_plain_loop(
            sim.base_url,
            key,
            numbers(setup.plain_loop_calls),
            call_interval_s=60 / DOCUMENTED_CALLS_PER_MIN / setup.speed,
            poll_every_s=POLL_EVERY_S / setup.speed,
            deadline_s=setup.plain_loop_calls * 5 + 30,
        )
        statuses = [sim.sim.status_of(e.call_id).value for e in sim.sim.audit()]
        completed = statuses.count("completed")
        return Economy(PLAIN_LOOP, made, completed, requests_total(sim))


def _completed_in_report(path: Path) -> int:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return sum(1 for row in csv.DictReader(file) if row["status"] == "completed")


def _figures(run: Economy) -> list[Figure]:
    target = RPC_TARGET if run.column == EMBEDDED else None
    note = f"{run.requests} requests for {run.completed} completed calls"
    return [
        Figure(
            "economy: requests per call",
            run.column,
            {"requests_per_call": run.requests_per_call},
            f"{run.requests_per_call:.2f}",
            target,
            note,
        ),
        Figure(
            "economy: calls/h on 1000 req/h",
            run.column,
            {"calls_per_h": run.calls_per_h_on_budget},
            f"{run.calls_per_h_on_budget:,.0f}",
        ),
    ]
