"""Frequency caps across campaigns: three campaigns over the same numbers with
`--max-calls 2/7d` call no number more than twice (the simulator's audit), embedded and on
2 workers at once."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from campaigns.store.redis_store import RedisStore
from campaigns.store.rows import RowStatus
from dialer.keys import RedisKeys
from dialer.settings import Secret
from tests.cli_support import dialer_env, run_dialer
from tests.cluster_support import Workers, cluster_env, dialer, own_database, wait_until
from tests.simulator_server import running_simulator

CAPPED = ["--max-calls", "2/7d", "--recall-after", "0", "--window", "any"]


def _lists(folder: Path, n: int) -> tuple[list[str], list[Path]]:
    nums = [f"+1415555{i:04d}" for i in range(n)]
    paths = []
    for k in range(3):
        path = folder / f"copy{k}.csv"
        path.write_text("name,phone\n" + "".join(f"C{k} {i},{x}\n" for i, x in enumerate(nums)))
        paths.append(path)
    return nums, paths


@pytest.mark.integration
def test_three_campaigns_call_no_number_more_than_twice(tmp_path: Path, api_key: str) -> None:
    with running_simulator(
        api_key=Secret(api_key), speed=600.0, call_limit=None, request_limit=None
    ) as sim:
        env = dialer_env(tmp_path / "home", base_url=sim.base_url, api_key=api_key)
        nums, paths = _lists(tmp_path, 15)
        for path in paths:
            done = run_dialer(["run", str(path), "--agent", "agent_demo", *CAPPED], env)
            assert done.returncode == 0, done.output
        called = Counter(e.to_number for e in sim.sim.audit())
    assert called == dict.fromkeys(nums, 2)
    with paths[2].with_name("copy2.outcomes.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert {r["status"] for r in rows} == {"suppressed"}
    assert all(r["error"] == "already called 2 times within 7d (--max-calls 2/7d)" for r in rows)


@pytest.mark.integration
def test_three_campaigns_at_once_on_two_workers_call_no_number_more_than_twice(
    tmp_path: Path, api_key: str
) -> None:
    with (
        own_database() as client,
        running_simulator(
            api_key=Secret(api_key), speed=120.0, call_limit=None, request_limit=None
        ) as sim,
    ):
        env = cluster_env(sim.base_url, api_key, tmp_path)
        nums, paths = _lists(tmp_path, 40)
        assert len(nums) == 40
        workers = Workers(env, tmp_path)
        workers.start(2)
        store = RedisStore(client, RedisKeys())
        try:
            cids = []
            for path in paths:
                done = dialer(["run", str(path), "--agent", "agent_demo", *CAPPED, "--detach"], env)
                assert done.returncode == 0, done.stderr
                cids.append(done.stdout.strip())
            for cid in cids:
                wait_until(
                    lambda cid=cid: (
                        (m := store.get_campaign(cid)) is not None and m.state.value != "running"
                    ),
                    120,
                    "the campaigns to end",
                )
        finally:
            workers.stop_all()
        called = Counter(e.to_number for e in sim.sim.audit())
        assert max(called.values()) <= 2, called
        assert sum(called.values()) == 80
        suppressed = sum(store.counts(cid).get(RowStatus.SUPPRESSED, 0) for cid in cids)
        assert suppressed == 40
