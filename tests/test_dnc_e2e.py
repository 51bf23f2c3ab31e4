"""The do-not-call list, checked at dial time: a number added while a campaign runs is never
called after the add returns (the simulator's audit), embedded and on 2 workers, and the report
says why. The installed `dialer` against the simulator over real HTTP."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest

from campaigns.store.redis_store import RedisStore
from campaigns.store.rows import RowStatus
from dialer.keys import RedisKeys
from dialer.settings import Secret
from tests.cli_support import DialerProcess, dialer_env, run_dialer, wait_until
from tests.cluster_support import Workers, cluster_env, dialer, own_database
from tests.simulator_server import running_simulator

SPEED = 600.0


def _list(path: Path, n: int) -> list[str]:
    nums = [f"+1212555{i:04d}" for i in range(n)]
    lines = ["name,phone"] + [f"P {i},{x}" for i, x in enumerate(nums)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return nums


@pytest.mark.integration
def test_a_number_added_mid_run_is_never_called_afterwards(tmp_path: Path, api_key: str) -> None:
    with running_simulator(
        api_key=Secret(api_key), speed=SPEED, call_limit=None, request_limit=None
    ) as sim:
        env = dialer_env(
            tmp_path / "home", base_url=sim.base_url, api_key=api_key, VOXPRIA_CALL_LIMIT="3/s"
        )
        nums = _list(tmp_path / "list.csv", 60)
        report = tmp_path / "out.csv"
        args = ["run", str(tmp_path / "list.csv"), "--agent", "agent_demo", "--window", "any"]
        proc = DialerProcess.start([*args, "--report", str(report)], env)
        try:
            wait_until(lambda: len(sim.sim.audit()) >= 10, timeout_s=60, what="10 calls")
            listed = nums[40:]
            added = run_dialer(["dnc", "add", *listed, "--reason", "opted out"], env)
            added_at = time.time()
            assert added.returncode == 0, added.output
            done = proc.wait(timeout_s=120)
        finally:
            proc.ensure_stopped()
        assert done.returncode == 0, done.output
        after = [e.to_number for e in sim.sim.audit() if e.created_s > added_at]
        assert not set(after) & set(listed), "a listed number was called after the add"
    with report.open(encoding="utf-8-sig") as f:
        rows = {r["phone"]: r for r in csv.DictReader(f)}
    refused = [rows[n] for n in listed if rows[n]["status"] == "suppressed"]
    assert refused, "the list stopped nobody"
    assert all("on the do-not-call list since" in r["error"] for r in refused)
    assert all("(opted out)" in r["error"] for r in refused)
    check = run_dialer(["dnc", "check", listed[0]], env)
    assert check.returncode == 0 and "opted out" in check.stdout


@pytest.mark.integration
def test_on_two_workers_a_number_added_mid_run_is_never_called_afterwards(
    tmp_path: Path, api_key: str
) -> None:
    with (
        own_database() as client,
        running_simulator(
            api_key=Secret(api_key), speed=120.0, call_limit=None, request_limit=None
        ) as sim,
    ):
        env = cluster_env(sim.base_url, api_key, tmp_path, VOXPRIA_CALL_LIMIT="5/s")
        nums = _list(tmp_path / "list.csv", 200)
        workers = Workers(env, tmp_path)
        workers.start(2)
        try:
            args = ["run", str(tmp_path / "list.csv"), "--agent", "agent_demo"]
            submitted = dialer([*args, "--window", "any", "--max-active", "40", "--detach"], env)
            assert submitted.returncode == 0, submitted.stderr
            cid = submitted.stdout.strip()
            wait_until(lambda: len(sim.sim.audit()) >= 20, timeout_s=90, what="20 calls")
            listed = nums[150:]
            added = dialer(["dnc", "add", *listed, "--reason", "complaint"], env)
            added_at = time.time()
            assert added.returncode == 0, added.stderr
            store = RedisStore(client, RedisKeys())
            wait_until(
                lambda: (m := store.get_campaign(cid)) is not None and m.state.value != "running",
                timeout_s=180,
                what="the campaign to end",
            )
        finally:
            workers.stop_all()
        after = [e.to_number for e in sim.sim.audit() if e.created_s > added_at]
        assert not set(after) & set(listed), "a listed number was called after the add"
        rows = {r.to_number: r for r in store.iter_rows(cid)}
        refused = [rows[n] for n in listed if rows[n].status is RowStatus.SUPPRESSED]
        assert refused and all("do-not-call list since" in r.error for r in refused)
