"""Measurement 4, scale: for lists of 10k, 100k and 1M rows, the dry run's plan, and the CSV and
XLSX reports of a finished campaign in the SQLite store written by `dialer report` itself; each
in a process of its own, timed and its peak RSS read by `tests.bench.measure`. And the Redis
store's memory per row (INFO used_memory before and after creating a campaign, in a database
of the bench's own; the sum of MEMORY USAGE over its keys beside it, as a cross-check).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from campaigns.lists.contacts import ListOptions, open_contact_list
from campaigns.store.redis_store import RedisStore
from campaigns.store.rows import CampaignMeta
from dialer.keys import RedisKeys
from tests.bench.celery_runs import REPO_ROOT
from tests.bench.dialer_runs import DIALER
from tests.bench.procs import BenchTimeout, Processes, say
from tests.bench.redis_db import own_db
from tests.bench.results import CLUSTER, EMBEDDED, Figure, Target
from tests.bench.scale_job import CAMPAIGN, make_store
from tests.test_plan import write_large_list

MILLION = 1_000_000
TARGETS = {  # at a million rows
    "dry run": Target("<= 45 s, <= 1.5 GB", {"elapsed_s": (None, 45), "peak_rss_mb": (None, 1536)}),
    "CSV report": Target("<= 15 s", {"elapsed_s": (None, 15)}),
    "XLSX report": Target("<= 90 s", {"elapsed_s": (None, 90)}),
}
MEMORY_KEY_PREFIX = "bench-memory"


@dataclass(frozen=True)
class ScaleSetup:
    sizes: tuple[int, ...]
    redis_rows: int
    job_timeout_s: float = 300.0


def measure(setup: ScaleSetup, work: Path, db: int) -> tuple[list[Figure], dict[str, Any]]:
    figures: list[Figure] = []
    detail: dict[str, Any] = {"setup": setup.__dict__, "jobs": {}}
    with Processes(work / "logs") as procs:
        for rows in setup.sizes:
            jobs = _jobs_at(rows, setup, work, procs)
            detail["jobs"][str(rows)] = jobs
            figures += [_job_figure(name, rows, job) for name, job in jobs.items()]
    memory = _redis_bytes_per_row(setup.redis_rows, _list_of(setup.redis_rows, work), db)
    detail["redis"] = memory
    figures.append(
        Figure(
            f"Redis store: bytes/row ({_size(setup.redis_rows)})",
            CLUSTER,
            {"bytes_per_row": memory["used_memory_per_row"]},
            f"{memory['used_memory_per_row']:,.0f} B",
            note=f"MEMORY USAGE sum: {memory['memory_usage_per_row']:,.0f} B per row",
        )
    )
    return figures, detail


def _jobs_at(rows: int, setup: ScaleSetup, work: Path, procs: Processes) -> dict[str, Any]:
    contacts = _list_of(rows, work)
    plan_argv = [sys.executable, "-m", "tests.bench.scale_job", "plan", str(contacts)]
    jobs = {"dry run": _measured(procs, f"dry-run-{rows}", plan_argv, {}, setup.job_timeout_s)}
    home = work / f"store-{rows}"
    make_store(rows, home)
    for kind in ("csv", "xlsx"):
        report = [DIALER, "report", CAMPAIGN, "--out", str(home / f"report.{kind}")]
        env = {"DIALER_HOME": str(home)}
        name = f"{kind.upper()} report"
        jobs[name] = _measured(procs, f"report-{kind}-{rows}", report, env, setup.job_timeout_s)
    shutil.rmtree(home)  # the 1M store and reports take about a gigabyte
    return jobs


def _list_of(rows: int, work: Path) -> Path:
    path = work / f"list-{rows}.csv"
    if not path.exists():
        write_large_list(path, rows)
    return path


def _measured(
    procs: Processes, name: str, argv: list[str], env: dict[str, str], timeout_s: float
) -> dict[str, Any]:
    """Run `argv` under the measuring launcher; its time, peak RSS and exit status."""
    out = procs.log_dir / f"{name}.json"
    launcher = [sys.executable, "-m", "tests.bench.measure", str(out), "--", *argv]
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DIALER_", "REDIS_URL"))}
    proc = procs.start(name, launcher, clean | env, cwd=REPO_ROOT)
    try:
        proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        procs.stop(proc)
        raise BenchTimeout(f"{name} took more than {timeout_s:g} s") from None
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    if result["returncode"] != 0:
        raise RuntimeError(f"{name} failed ({result['returncode']}): see its log")
    say(f"  {name}: {result['elapsed_s']:.1f} s, {result['peak_rss_mb']:.0f} MB")
    return result


def _job_figure(name: str, rows: int, job: dict[str, Any]) -> Figure:
    values = {"elapsed_s": job["elapsed_s"], "peak_rss_mb": job["peak_rss_mb"]}
    return Figure(
        f"{name} {_size(rows)}: time, peak RSS",
        EMBEDDED,
        values,
        f"{job['elapsed_s']:.1f} s {job['peak_rss_mb']:.0f} MB",
        TARGETS[name] if rows == MILLION else None,
    )


def _size(rows: int) -> str:
    return f"{rows // MILLION}M" if rows >= MILLION else f"{rows // 1000}k"


def _redis_bytes_per_row(rows: int, contacts: Path, db: int) -> dict[str, float]:
    with own_db(db) as client:
        store = RedisStore(client, RedisKeys(MEMORY_KEY_PREFIX))
        listed = open_contact_list(contacts, ListOptions())
        meta = CampaignMeta("memory", "agent_demo", str(contacts), list(listed.headers), {})
        before = _used_memory(client)
        store.create_campaign(meta, listed.rows())
        after = _used_memory(client)
        usage = sum(
            int(client.memory_usage(key, samples=0) or 0)
            for key in client.scan_iter(match=f"{MEMORY_KEY_PREFIX}:*", count=1000)
        )
    return {
        "rows": rows,
        "used_memory_per_row": (after - before) / rows,
        "memory_usage_per_row": usage / rows,
    }


def _used_memory(client: redis.Redis[str]) -> int:
    time.sleep(0.2)  # let lazy frees and client buffers settle
    return int(client.info("memory")["used_memory"])
