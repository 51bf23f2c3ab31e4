"""The spend guard (`--min-balance`) end to end: `dialer run` as a subprocess against the
simulator over real HTTP, its balance spent by every call it creates (credits_per_call)."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from campaigns.store.redis_store import RedisStore
from campaigns.store.rows import RowStatus
from dialer.keys import RedisKeys
from dialer.settings import Secret
from tests.cli_support import dialer_env, run_args, run_dialer
from tests.cluster_support import Workers, cluster_env, dialer, own_database, wait_until
from tests.simulator_server import SimulatorHandle, StartSim, running_simulator

pytestmark = pytest.mark.integration

ROWS = 30


def _contacts(path: Path, rows: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["phone"])
        for i in range(rows):
            writer.writerow([f"+1312555{i:04d}"])
    return path


def _statuses(report: Path) -> tuple[Counter[str], list[str]]:
    with report.open(newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    return Counter(r["status"] for r in rows), [r["error"] for r in rows]


def test_balance_running_out_stops_new_calls_and_follows_live_ones(
    tmp_path: Path, start_sim: StartSim, api_key: str
) -> None:
    sim: SimulatorHandle = start_sim(credits_balance=12.0, credits_per_call=1.0, speed=600.0)
    report = tmp_path / "out.csv"
    env = dialer_env(tmp_path / "home", base_url=sim.base_url, api_key=api_key)
    args = run_args(_contacts(tmp_path / "people.csv", ROWS), report, "--min-balance", "5")
    done = run_dialer([*args, "--max-active", "3"], env)
    calls = len(sim.sim.audit())
    # read before the first call and after every 5 calls: 12 -> 7 -> 2, under 5 at the latest
    # after 10 calls, and never before the balance reached 5 (7 calls spent)
    assert 7 <= calls <= 10, (calls, done.output)
    assert "credit balance" in done.stdout and "under --min-balance 5" in done.stdout
    statuses, errors = _statuses(report)
    assert statuses["not_called"] == ROWS - calls
    assert set(statuses) <= {"completed", "busy", "no_answer", "failed", "not_called"}, statuses
    assert sum(n for s, n in statuses.items() if s != "not_called") == calls  # followed to the end
    assert any(e.startswith("credit balance") and "under --min-balance 5" in e for e in errors)


def test_enough_balance_calls_everyone(tmp_path: Path, start_sim: StartSim, api_key: str) -> None:
    sim = start_sim(credits_balance=100.0, credits_per_call=1.0, speed=600.0)
    report = tmp_path / "out.csv"
    env = dialer_env(tmp_path / "home", base_url=sim.base_url, api_key=api_key)
    done = run_dialer(
        run_args(_contacts(tmp_path / "p.csv", 10), report, "--min-balance", "5"), env
    )
    assert done.returncode == 0, done.output
    assert len(sim.sim.audit()) == 10


@pytest.mark.parametrize("amount", ["abc", "-1", "nan", "inf", ""])
def test_bad_min_balance_is_exit_2_naming_the_option(tmp_path: Path, amount: str) -> None:
    env = dialer_env(tmp_path / "home")
    done = run_dialer(
        [*run_args(_contacts(tmp_path / "p.csv", 2), tmp_path / "o.csv", "--min-balance", amount)],
        env,
    )
    assert done.returncode == 2, done.output
    assert "--min-balance" in done.output and "Traceback" not in done.output


def test_dry_run_shows_the_balance_or_says_it_cannot(
    tmp_path: Path, start_sim: StartSim, api_key: str
) -> None:
    sim = start_sim(credits_balance=4.2)
    contacts = _contacts(tmp_path / "p.csv", 2)
    report = tmp_path / "o.csv"
    args = [*run_args(contacts, report, "--min-balance", "5"), "--dry-run"]
    keyed = run_dialer(args, dialer_env(tmp_path / "h1", base_url=sim.base_url, api_key=api_key))
    assert keyed.returncode == 0, keyed.output
    assert "Credit balance: 4.20" in keyed.stdout and "under --min-balance 5" in keyed.stdout
    assert api_key not in keyed.output
    keyless = run_dialer(args, dialer_env(tmp_path / "h2", base_url=sim.base_url))
    assert keyless.returncode == 0, keyless.output
    assert "not read (no VOXPRIA_API_KEY set)" in keyless.stdout
    assert len(sim.sim.audit()) == 0


def test_cluster_workers_stop_starting_calls_under_the_balance(
    tmp_path: Path, api_key: str
) -> None:
    rows = 60
    with (
        own_database() as client,
        running_simulator(
            api_key=Secret(api_key),
            speed=120.0,
            call_limit=None,
            request_limit=None,
            credits_balance=30.0,
            credits_per_call=1.0,
        ) as sim,
    ):
        env = cluster_env(sim.base_url, api_key, tmp_path)
        contacts = _contacts(tmp_path / "people.csv", rows)
        workers = Workers(env, tmp_path)
        workers.start(2)
        store = RedisStore(client, RedisKeys())
        try:
            args = run_args(contacts, tmp_path / "o.csv", "--min-balance", "10", "--detach")
            done = dialer(args, env)
            assert done.returncode == 0, done.stderr
            cid = done.stdout.strip()
            wait_until(
                lambda: (m := store.get_campaign(cid)) is not None and m.state.value == "stopped",
                120,
                "the campaign to stop",
            )
        finally:
            workers.stop_all()
        calls = len(sim.sim.audit())
        meta = store.get_campaign(cid)
        assert meta is not None
        assert meta.reason.startswith("credit balance") and "under --min-balance 10" in meta.reason
        # each worker reads the balance at least every 5 of its calls: under 10 only after 21
        # calls, and no worker starts more than 5 past a read that showed 10 or more
        assert 21 <= calls <= 30, calls
        counts = store.counts(cid)
        assert store.in_flight(cid) == 0  # live calls followed to their end
        assert counts.get(RowStatus.PENDING, 0) == rows - calls  # kept for a resume
