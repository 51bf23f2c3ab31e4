"""The cluster mode end to end: real `dialer worker` processes on real Redis, the simulator over
real HTTP, and the `dialer` command submitting, following and reporting."""

from __future__ import annotations

import csv
import socket
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis

from campaigns.store.redis_store import RedisStore
from campaigns.store.rows import IN_FLIGHT, CampaignState, RowStatus
from dialer.keys import RedisKeys
from dialer.settings import Rate
from dialer.simulator.server import SimulatorHandle
from tests.cluster_support import Workers, cluster_env, dialer, wait_until

pytestmark = pytest.mark.integration  # `dialer worker` processes, real Redis, HTTP

SPEED = 120.0  # a 2-minute call lasts a second
API_FINAL = {"completed", "failed", "no_answer", "busy"}
# README ("Cluster mode") and DESIGN.md: a killed worker's rows are finished within a minute.
PROMISED_RECOVERY_S = 60.0


def write_list(path: Path, n: int) -> list[str]:
    nums = [f"+1212555{i:04d}" for i in range(n)]
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "phone"])
        w.writerows([f"Person {i}", n] for i, n in enumerate(nums))
    return nums


@pytest.fixture
def cluster(tmp_path: Path, cluster_redis: redis.Redis[str]) -> tuple[RedisStore, Path]:
    return RedisStore(cluster_redis, RedisKeys()), tmp_path


def submit(contacts: Path, env: dict[str, str]) -> str:
    done = dialer(
        [
            "run",
            str(contacts),
            "--agent",
            "agent_demo",
            "--window",
            "any",
            "--max-active",
            "40",
            "--detach",
        ],
        env,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def read_report(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_a_killed_worker_loses_nothing_and_phones_nobody_twice(
    cluster: tuple[RedisStore, Path], api_key: str, start_sim: Callable[..., SimulatorHandle]
) -> None:
    store, tmp = cluster
    sim = start_sim(speed=SPEED)
    env = cluster_env(sim.base_url, api_key, tmp)
    nums = write_list(tmp / "list.csv", 300)
    workers = Workers(env, tmp)
    workers.start(3)
    try:
        cid = submit(tmp / "list.csv", env)
        wait_until(lambda: len(sim.sim.audit()) >= 60, 60, "60 calls created")
        held = _kill_while_holding(workers, 0, store, cid)
        killed_at = time.monotonic()
        # Its rows, and every call in flight (it may have been the one following them).
        orphans = held | _in_flight(store, cid)
        wait_until(
            lambda: _all_final(store, cid, orphans),
            PROMISED_RECOVERY_S - (time.monotonic() - killed_at),
            f"the {len(orphans)} rows the killed worker held or in flight to end",
        )
        recovered_s = time.monotonic() - killed_at
        wait_until(lambda: _ended(store, cid), 120, "the campaign to end")
    finally:
        workers.stop_all()
    assert recovered_s <= PROMISED_RECOVERY_S
    _check_outcome(sim, store, cid, nums, tmp, env)


def test_every_fault_on_and_a_worker_killed_still_calls_everyone_exactly_once(
    cluster: tuple[RedisStore, Path], api_key: str, start_sim: Callable[..., SimulatorHandle]
) -> None:
    store, tmp = cluster
    sim = start_sim(
        speed=SPEED,
        # short quota windows: a spurious 429 resets within seconds, not at the next minute
        call_limit=Rate(100, 5),
        request_limit=None,
        p_429=0.05,
        p_5xx_before_create=0.05,
        p_lost_after_create=0.05,
        p_slow_after_create=0.05,
        p_flaky_get=0.05,
        slow_s=2.0,
        seed=11,
    )
    env = cluster_env(
        sim.base_url,
        api_key,
        tmp,
        DIALER_HTTP_TIMEOUT_S="1",
        VOXPRIA_CALL_LIMIT="15/s",
        DIALER_VERIFY_AFTER_S="3",
    )
    nums = write_list(tmp / "list.csv", 300)
    workers = Workers(env, tmp)
    workers.start(2)
    try:
        cid = submit(tmp / "list.csv", env)
        wait_until(lambda: len(sim.sim.audit()) >= 60, 90, "60 calls created")
        workers.kill(0)
        wait_until(lambda: _ended(store, cid), 240, "the campaign to end")
    finally:
        workers.stop_all()
    rows = _check_outcome(sim, store, cid, nums, tmp, env)
    called = Counter(e.to_number for e in sim.sim.audit())
    unknown = [r for r in rows if r["status"] == "unknown"]
    twice = [n for n, c in called.items() if c > 1]
    print(f"unknown rows: {len(unknown)}; numbers called twice: {len(twice)}")
    assert not twice
    assert called == dict.fromkeys(nums, 1), "not everyone was called exactly once"
    assert unknown == []


def _kill_while_holding(workers: Workers, i: int, store: RedisStore, cid: str) -> set[int]:
    """Kill worker `i` at a moment it holds rows, and return them. It is paused (SIGSTOP) while
    its leases are read, so it cannot let go of them between the look and the kill."""
    victim = workers.pids(i)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        wait_until(lambda: bool(_held_by(store, cid, victim)), 30, "the worker to hold rows")
        workers.pause(i)
        if held := _held_by(store, cid, victim):
            workers.kill(i)
            return held
        workers.go_on(i)
    raise AssertionError("the worker never held a row while paused: nothing to recover")


def _held_by(store: RedisStore, cid: str, pids: set[int]) -> set[int]:
    """Rows leased by one of `pids` (a worker names its leases "host:pid:task")."""
    host = socket.gethostname()
    owners = tuple(f"{host}:{pid}:" for pid in pids)
    return {r.idx for r in store.iter_rows(cid) if r.lease_owner.startswith(owners)}


def _in_flight(store: RedisStore, cid: str) -> set[int]:
    return {r.idx for r in store.iter_rows(cid) if r.status in IN_FLIGHT}


def _all_final(store: RedisStore, cid: str, idxs: set[int]) -> bool:
    rows: list[Any] = [store.get_row(cid, idx) for idx in idxs]
    return all(r is not None and r.status.is_final for r in rows)


def _ended(store: RedisStore, cid: str) -> bool:
    meta = store.get_campaign(cid)
    return meta is not None and meta.state is not CampaignState.RUNNING


def _check_outcome(
    sim: SimulatorHandle,
    store: RedisStore,
    cid: str,
    nums: list[str],
    tmp: Path,
    env: dict[str, str],
) -> list[dict[str, str]]:
    meta = store.get_campaign(cid)
    assert meta is not None and meta.state is CampaignState.FINISHED, meta
    per_number = Counter(e.to_number for e in sim.sim.audit())
    assert max(per_number.values()) == 1, "someone was phoned twice"
    out = tmp / "report.csv"
    done = dialer(["report", cid, "--out", str(out)], env)
    assert done.returncode == 0, done.stderr
    rows = read_report(out)
    assert [r["phone"] for r in rows] == nums
    assert {r["status"] for r in rows} <= API_FINAL | {"unknown"}
    counts = store.counts(cid)
    assert not counts.get(RowStatus.PENDING) and not counts.get(RowStatus.ACTIVE)
    return rows


def test_two_copies_of_a_list_on_the_cluster_at_once_call_each_number_once(
    cluster: tuple[RedisStore, Path], api_key: str, start_sim: Callable[..., SimulatorHandle]
) -> None:
    store, tmp = cluster
    sim = start_sim(speed=SPEED)
    env = cluster_env(sim.base_url, api_key, tmp)
    nums = write_list(tmp / "list.csv", 60)
    (tmp / "copy.csv").write_bytes((tmp / "list.csv").read_bytes() + b"\n")  # re-saved
    workers = Workers(env, tmp)
    workers.start(2)
    try:
        cids = [submit(tmp / "list.csv", env), submit(tmp / "copy.csv", env)]
        assert cids[0] != cids[1]
        for cid in cids:
            wait_until(lambda cid=cid: _ended(store, cid), 120, "the campaigns to end")
    finally:
        workers.stop_all()
    called = Counter(e.to_number for e in sim.sim.audit())
    assert called == dict.fromkeys(nums, 1), "someone was phoned twice"
    suppressed = sum(store.counts(cid).get(RowStatus.SUPPRESSED, 0) for cid in cids)
    assert suppressed == 60
    rows = [r for cid in cids for r in store.iter_rows(cid)]
    assert all("ago by campaign" in r.error for r in rows if r.status is RowStatus.SUPPRESSED)


def test_every_worker_killed_then_one_back_the_reviver_restarts_the_campaign(
    cluster: tuple[RedisStore, Path],
    cluster_redis: redis.Redis[str],
    api_key: str,
    start_sim: Callable[..., SimulatorHandle],
) -> None:
    """No `dialer run` follows the campaign (submitted detached). Every worker is killed at a
    moment no shift waits in the queue, so no shift's hand-over can carry the campaign on: only
    a new worker's reviver (workers.tasks.revive_forever) can, once the dead shifts' slot leases
    run out; the dead shifts' own messages come back only after the broker's visibility timeout
    (60 s), too late for the promise."""
    store, tmp = cluster
    sim = start_sim(speed=SPEED)
    env = cluster_env(sim.base_url, api_key, tmp, VOXPRIA_CALL_LIMIT="5/s")
    nums = write_list(tmp / "list.csv", 40)
    workers = Workers(env, tmp)
    workers.start(2)
    try:
        cid = submit(tmp / "list.csv", env)
        wait_until(lambda: len(sim.sim.audit()) >= 10, 60, "10 calls created")
        _kill_all_with_no_shift_queued(workers, cluster_redis)
        calls_before = len(sim.sim.audit())
        assert calls_before < len(nums), "the campaign ended before its workers were killed"
        assert _ended(store, cid) is False
        workers.start(1)
        back_at = time.monotonic()
        wait_until(
            lambda: len(sim.sim.audit()) > calls_before,
            PROMISED_RECOVERY_S,
            "a call after a new worker started",
        )
        revive_s = time.monotonic() - back_at
        wait_until(lambda: _ended(store, cid), 60, "the campaign to end")
    finally:
        workers.stop_all()
    print(f"revived {revive_s:.1f} s after a new worker started (all workers had been killed)")
    log = (tmp / "worker-2.log").read_text(errors="replace")
    assert "shifts of campaigns left without any" in log, log[-3000:]
    assert revive_s <= PROMISED_RECOVERY_S
    _check_outcome(sim, store, cid, nums, tmp, env)
    assert Counter(e.to_number for e in sim.sim.audit()) == dict.fromkeys(nums, 1)


def _queued_shifts(client: redis.Redis[str]) -> int:
    """Shifts waiting in the broker's queue (Celery's Redis transport: a list per queue and
    priority, named after the queue)."""
    queues = [k for k in client.scan_iter(match="dialer.shifts*") if client.type(k) == "list"]
    return sum(int(client.llen(k)) for k in queues)


def _kill_all_with_no_shift_queued(workers: Workers, client: redis.Redis[str]) -> None:
    """SIGKILL every worker at a moment no shift waits in the queue (each is paused while the
    queue is read, so none can hand a shift over between the look and the kill)."""
    every = range(len(workers.procs))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for i in every:
            workers.pause(i)
        if _queued_shifts(client) == 0:
            for i in every:
                workers.kill(i)
            return
        for i in every:
            workers.go_on(i)
        wait_until(lambda: _queued_shifts(client) == 0, 10, "the queued shifts to be taken")
    raise AssertionError("a shift was always waiting in the queue")
