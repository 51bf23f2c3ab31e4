"""State that cannot silently vanish, in cluster mode: a redis-server of the test's own (on a
free port, in a folder of its own) killed and restarted mid-run; and a Redis that does not
persist every write, refused with the setting named."""

from __future__ import annotations

import csv
import json
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from dialer.settings import Secret
from dialer.simulator.server import running_simulator
from tests.cli_support import DialerProcess
from tests.cluster_support import Workers, cluster_env, dialer, wait_until

SPEED = 120.0
REDIS_SERVER = "redis-server"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _redis_server(folder: Path, port: int, *, durable: bool) -> Iterator[subprocess.Popen[bytes]]:
    folder.mkdir(parents=True, exist_ok=True)
    persistence = ["--appendonly", "yes", "--appendfsync", "always"] if durable else []
    try:
        proc = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(folder),
                "--save",
                "",
                *persistence,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        pytest.skip("redis-server is not installed")
    client: redis.Redis[str] = redis.Redis(port=port, decode_responses=True)
    try:
        wait_until(lambda: _answers(client), 10, "redis-server to answer")
        yield proc
    finally:
        client.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def _answers(client: redis.Redis[str]) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def _write_list(path: Path, n: int) -> list[str]:
    nums = [f"+1212555{i:04d}" for i in range(n)]
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "phone"])
        w.writerows([f"Person {i}", n] for i, n in enumerate(nums))
    return nums


def _run_args(contacts: Path) -> list[str]:
    return ["run", str(contacts), "--agent", "agent_demo", "--window", "any", "--max-active",
            "20", "--report", str(contacts.with_suffix(".out.csv"))]  # fmt: skip


@pytest.mark.integration
def test_redis_killed_and_restarted_mid_run_the_campaign_finishes_by_itself(
    tmp_path: Path, api_key: str
) -> None:
    port = _free_port()
    with running_simulator(
        api_key=Secret(api_key), speed=SPEED, call_limit=None, request_limit=None
    ) as sim:
        env = cluster_env(sim.base_url, api_key, tmp_path, REDIS_URL=f"redis://127.0.0.1:{port}/0",
                          VOXPRIA_CALL_LIMIT="8/s")  # fmt: skip
        del env["DIALER_ALLOW_VOLATILE_REDIS"]  # this Redis persists every write: no override
        nums = _write_list(tmp_path / "list.csv", 160)
        workers = Workers(env, tmp_path)
        run: DialerProcess | None = None
        try:
            with _redis_server(tmp_path / "redis", port, durable=True) as server:
                workers.start(2)
                run = DialerProcess.start(_run_args(tmp_path / "list.csv"), env)
                wait_until(lambda: len(sim.sim.audit()) >= 40, 90, "40 calls")
                server.kill()  # SIGKILL: no shutdown, no last save
                server.wait(10)
            wait_until(lambda: "cannot be reached" in run.output(), 30, "the outage said")
            calls_before = len(sim.sim.audit())
            with _redis_server(tmp_path / "redis", port, durable=True):
                back_at = time.monotonic()
                wait_until(lambda: len(sim.sim.audit()) > calls_before, 90, "a call after restart")
                revive_s = time.monotonic() - back_at
                done = run.wait(timeout_s=180)
        finally:
            if run is not None:
                run.ensure_stopped()
            workers.stop_all()
        print(f"revived {revive_s:.1f} s after Redis came back")
        assert done.returncode == 0, done.output
        assert "Traceback" not in done.output, done.output
        assert "Redis is back" in done.stdout + done.stderr
        called = Counter(e.to_number for e in sim.sim.audit())
        twice = [n for n, c in called.items() if c > 1]
        print(f"numbers called twice: {len(twice)}")
        assert not twice
        with (tmp_path / "list.out.csv").open(encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
        assert [r["phone"] for r in rows] == nums
        assert {r["status"] for r in rows} <= {"completed", "failed", "no_answer", "busy"}
        assert revive_s < 60


@pytest.mark.integration
def test_a_redis_that_does_not_persist_every_write_is_refused(tmp_path: Path, api_key: str) -> None:
    port = _free_port()
    with running_simulator(api_key=Secret(api_key), speed=SPEED) as sim:
        env = cluster_env(sim.base_url, api_key, tmp_path, REDIS_URL=f"redis://127.0.0.1:{port}/0")
        del env["DIALER_ALLOW_VOLATILE_REDIS"]
        _write_list(tmp_path / "list.csv", 3)
        with _redis_server(tmp_path / "redis", port, durable=False):
            done = dialer(_run_args(tmp_path / "list.csv"), env)
            assert done.returncode == 1, done.stdout + done.stderr
            assert "appendonly is no" in done.stderr and "appendfsync always" in done.stderr
            assert "DIALER_ALLOW_VOLATILE_REDIS=1" in done.stderr
            assert "Traceback" not in done.stderr
            assert sim.sim.audit() == []
            # the override, for throwaway tests, lets it start
            env["DIALER_ALLOW_VOLATILE_REDIS"] = "1"
            detached = dialer([*_run_args(tmp_path / "list.csv"), "--detach"], env)
            assert detached.returncode == 0, detached.stderr


@pytest.mark.integration
def test_dialer_status_waits_out_a_redis_outage_with_a_clear_message(
    tmp_path: Path, api_key: str
) -> None:
    """`dialer status` (one campaign, every campaign, --json) started while Redis is down says
    so once, waits, and answers once Redis is back: no traceback."""
    port = _free_port()
    with running_simulator(api_key=Secret(api_key), speed=SPEED) as sim:
        env = cluster_env(sim.base_url, api_key, tmp_path, REDIS_URL=f"redis://127.0.0.1:{port}/0")
        del env["DIALER_ALLOW_VOLATILE_REDIS"]  # this Redis persists every write
        _write_list(tmp_path / "list.csv", 3)
        statuses: list[DialerProcess] = []
        try:
            with _redis_server(tmp_path / "redis", port, durable=True) as server:
                detached = dialer([*_run_args(tmp_path / "list.csv"), "--detach"], env)
                assert detached.returncode == 0, detached.stderr
                cid = detached.stdout.strip()
                server.kill()
                server.wait(10)
            for args in (["status", cid], ["status"], ["status", "--json"]):
                statuses.append(DialerProcess.start(args, env))
            for s in statuses:
                wait_until(lambda s=s: "cannot be reached" in s.output(), 20, "the outage said")
            with _redis_server(tmp_path / "redis", port, durable=True):
                done = [s.wait(timeout_s=30) for s in statuses]
        finally:
            for s in statuses:
                s.ensure_stopped()
    for d in done:
        assert d.returncode == 0, d.output
        assert "Traceback" not in d.output, d.output
        assert d.stderr.count("Redis (REDIS_URL) cannot be reached") == 1, d.output
        assert "waiting for it to come back" in d.stderr and "Redis is back" in d.stderr
        assert cid in d.stdout, d.output
    assert f"{cid}: running" in done[0].stdout and f"{cid}: running" in done[1].stdout
    assert json.loads(done[2].stdout)["campaigns"][0]["campaign"] == cid
