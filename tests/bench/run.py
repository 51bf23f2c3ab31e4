"""`make bench`: every measurement in turn, one table, the same figures as JSON.

    python -m tests.bench.run           # about 8 minutes on 2 cores
    python -m tests.bench.run --quick   # under a minute: smaller backlogs, 10k rows only
    python -m tests.bench.run --only million --rows 20000 --causes   # the causes, quickly

Progress goes to stderr; the table, its notes and the JSON file's path to stdout. Exit status 0
when every measurement ran (a missed target is a finding, not a failure), 1 otherwise.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import redis

from tests.bench import ceiling, economy, million, pacing, scale, xlsx_read
from tests.bench.celery_runs import REPO_ROOT
from tests.bench.procs import say
from tests.bench.redis_db import REDIS_ROOT_URL, BenchDbs
from tests.bench.results import (
    EMBEDDED,
    Figure,
    Results,
    render_causes,
    render_table,
    write_json,
)

Step = Callable[[], tuple[list[Figure], dict[str, Any]]]


@dataclass(frozen=True)
class BenchPlan:
    pacing: pacing.PacingSetup
    economy: economy.EconomySetup
    ceiling: ceiling.CeilingSetup
    scale: scale.ScaleSetup
    million: million.MillionSetup


FULL = BenchPlan(
    pacing.PacingSetup(rows=200),
    economy.EconomySetup(dialer_calls=300, plain_loop_calls=6),
    ceiling.CeilingSetup(dialer_calls=2000, noop_tasks=4000),
    scale.ScaleSetup(sizes=(10_000, 100_000), redis_rows=100_000),  # 1M: `million`
    million.MillionSetup(),
)
QUICK = BenchPlan(
    pacing.PacingSetup(rows=40, agent_rate_per_s=50, account_rate_per_s=40, cluster_workers=(3,)),
    economy.EconomySetup(dialer_calls=100, plain_loop_calls=1),
    ceiling.CeilingSetup(dialer_calls=300, noop_tasks=1200),
    scale.ScaleSetup(sizes=(10_000,), redis_rows=10_000),
    million.MillionSetup(rows=10_000),
)


def steps(plan: BenchPlan, work: Path, dbs: BenchDbs) -> list[tuple[str, Step]]:
    return [
        ("pacing", lambda: pacing.measure(plan.pacing, work, dbs)),
        ("economy", lambda: economy.measure(plan.economy, work)),
        ("ceiling", lambda: ceiling.measure(plan.ceiling, work, dbs)),
        ("scale", lambda: scale.measure(plan.scale, work, dbs.memory)),
        ("million", lambda: million.measure(plan.million, work, dbs.cluster)),
        # the .xlsx read rate on a tenth of the largest list (100k rows; 1k quick)
        ("xlsx read", lambda: xlsx_read.measure(max(plan.scale.sizes) // 10, work)),
    ]


def run_steps(named_steps: list[tuple[str, Step]], results: Results) -> None:
    for name, step in named_steps:
        load = os.getloadavg()[0]
        say(f"{name}: started (load average {load:.1f})")
        started = time.monotonic()
        try:
            figures, detail = step()
        except Exception as exc:  # one failed measurement does not lose the others
            results.errors.append(f"{name}: {type(exc).__name__}: {exc}")
            say(f"{name}: FAILED: {exc}")
            continue
        detail["elapsed_s"] = time.monotonic() - started
        detail["load_1min_at_start"] = load
        results.add(figures, name, detail)
        say(f"{name}: done in {detail['elapsed_s']:.1f} s")


def webhook_economy(quick: bool, results: Results) -> None:
    """The webhook economy (tests/bench/webhooks.py), when that module is there: optional, so
    its failure is reported but does not fail the bench."""
    try:  # imported by name: another part of the project, possibly not there yet
        module = importlib.import_module("tests.bench.webhooks")
    except ImportError:
        return
    say("economy with webhooks: started")
    try:
        figures: dict[str, float] = module.measure_webhook_economy(quick)
    except Exception as exc:
        results.details["webhooks"] = {"error": f"{type(exc).__name__}: {exc}"}
        say(f"economy with webhooks: FAILED (optional): {exc}")
        return
    results.details["webhooks"] = figures
    value = figures.get("requests_per_call_webhooks")
    if value is not None:
        row = "economy: req/call, webhooks"
        results.figures.append(Figure(row, EMBEDDED, {"requests_per_call": value}, f"{value:.2f}"))


def context(
    mode: str, started: float, dbs: BenchDbs, load_at_start: float, revision: str
) -> dict[str, Any]:
    return {
        "bench": "voxpria-dialer make bench",
        "mode": mode,
        "started_at": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
        "duration_s": time.time() - started,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "redis": _redis_version(),
            "load_1min_at_start": load_at_start,
            "load_1min_at_end": os.getloadavg()[0],
        },
        "git": revision,  # as the bench started
        "redis_dbs": asdict(dbs),
    }


def _redis_version() -> str:
    client: redis.Redis[str] = redis.Redis.from_url(REDIS_ROOT_URL, decode_responses=True)
    try:
        return str(client.info("server").get("redis_version", "?"))
    finally:
        client.close()


def _git_revision() -> str:
    done = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=10,
    )
    return done.stdout.strip() or "unknown"


def notes(plan: BenchPlan, results: Results, machine: dict[str, Any]) -> list[str]:
    p, e, c = plan.pacing, plan.economy, plan.ceiling
    lines = [
        "rate_limit 2w: Celery's own rate_limit; no-op 2w: a Celery task doing nothing; both on "
        "2 worker processes. plain loop: POST, GET every 5 s to the end, sleep 1/limit",
        f"machine: {machine['cpus']} cores, load average {machine['load_1min_at_start']:.1f} at "
        f"start and {machine['load_1min_at_end']:.1f} at the end: whatever else runs here "
        "moves these figures",
        f"pacing: {p.rows}-row backlog, agent --rate {p.agent_rate_per_s:g}/s, account limit "
        f"{p.account_rate_per_s:g}/s (the allowed rate), instant simulator; most starts in a "
        "window of w s must stay <= rate*w+1",
        f"economy: 2-minute calls at speed {e.speed:g}, all answered; dialer {e.dialer_calls} "
        f"calls (max-active {e.max_active}, documented limits and poll intervals time-scaled), "
        f"plain loop {e.plain_loop_calls} calls; every API request counted",
        f"ceiling: {c.dialer_calls} calls, no limits, instant simulator; no-op: {c.noop_tasks} "
        "tasks; 2 worker processes (--concurrency 1) each",
        "scale: each job in its own process, wall time and peak RSS (dialer report for the "
        "reports, of a finished campaign in SQLite); Redis bytes per row from INFO used_memory",
    ]
    lines += [f"{f.column}, {f.row}: {f.note}" for f in results.figures if f.note]
    return lines


def json_path(started: float, quick: bool) -> Path:
    stamp = datetime.fromtimestamp(started).strftime("%Y%m%d-%H%M%S")
    return REPO_ROOT / "bench-results" / f"bench-{stamp}{'-quick' if quick else ''}.json"


def _stop_on_sigterm() -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)  # unwinds every `with`: processes stopped, DBs flushed

    signal.signal(signal.SIGTERM, handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the under-a-minute form")
    parser.add_argument("--only", help="one measurement by name, e.g. million")
    parser.add_argument(
        "--rows",
        type=int,
        help="the million measurement's list size (its targets are judged at 1,000,000 only)",
    )
    parser.add_argument(
        "--causes",
        action="store_true",
        help="measure the cause of every million-row figure, "
        "met or not (without it: of each missed target)",
    )
    args = parser.parse_args(argv)
    plan, dbs = (QUICK if args.quick else FULL), BenchDbs()
    rows = args.rows or plan.million.rows
    plan = replace(plan, million=replace(plan.million, rows=rows, causes=args.causes))
    started, results, load_at_start = time.time(), Results(), os.getloadavg()[0]
    revision = _git_revision()
    _stop_on_sigterm()
    work = Path(tempfile.mkdtemp(prefix="dialer-bench-"))
    try:
        chosen = [step for step in steps(plan, work, dbs) if args.only in (None, step[0])]
        run_steps(chosen, results)
        # three more campaigns: the quick form (and a single measurement) leaves them out
        if not args.quick and args.only is None:
            webhook_economy(args.quick, results)
    finally:
        if results.errors:
            say(f"logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    path = json_path(started, args.quick)
    about = context("quick" if args.quick else "full", started, dbs, load_at_start, revision)
    write_json(path, results, about)
    print(render_table(results.figures))
    causes = render_causes(results.figures)
    if causes:
        print("\n".join(["", "Causes (measured in this run):", *(f"- {c}" for c in causes)]))
    lines = notes(plan, results, about["machine"])
    print("\n".join(["", "Notes:", *(f"- {line}" for line in lines)]))
    for error in results.errors:
        print(f"ERROR {error}")
    print(f"\nTook {time.time() - started:.0f} s. Figures as JSON: {path}")
    return 1 if results.errors else 0


if __name__ == "__main__":
    sys.exit(main())
