"""Nobody phoned twice across campaigns: the same list again, a little different, run through
the installed `dialer` against the simulator over real HTTP (its audit is the ground truth).

A re-saved list is a new campaign (its id comes from its bytes and name); the contact history's
recall guard is what keeps its numbers from being called again the same day.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from dialer.settings import Secret
from tests.cli_support import DialerProcess, dialer_env, run_dialer
from tests.simulator_server import SimulatorHandle, running_simulator

pytestmark = pytest.mark.integration

SPEED = 600.0
NUMBERS = [f"+1415555{i:04d}" for i in range(20)]


@pytest.fixture
def sim(api_key: str) -> Iterator[SimulatorHandle]:
    with running_simulator(
        api_key=Secret(api_key), speed=SPEED, call_limit=None, request_limit=None
    ) as handle:
        yield handle


def _write(path: Path, numbers: list[str], names: str = "Person", newline: str = "") -> Path:
    lines = ["name,phone"] + [f"{names} {i},{n}" for i, n in enumerate(numbers)]
    path.write_text("\n".join(lines) + newline, encoding="utf-8")
    return path


def _args(contacts: Path, *extra: str) -> list[str]:
    report = contacts.with_name(contacts.stem + ".out.csv")
    return ["run", str(contacts), "--agent", "agent_demo", "--window", "any", "--report",
            str(report), *extra]  # fmt: skip


def _report(contacts: Path) -> list[dict[str, str]]:
    with contacts.with_name(contacts.stem + ".out.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _calls(sim: SimulatorHandle) -> Counter[str]:
    return Counter(e.to_number for e in sim.sim.audit())


def test_a_list_saved_again_renamed_or_fixed_calls_nobody_twice(
    sim: SimulatorHandle, api_key: str, tmp_path: Path
) -> None:
    env = dialer_env(tmp_path / "home", base_url=sim.base_url, api_key=api_key)
    first = _write(tmp_path / "contacts.csv", NUMBERS)
    done = run_dialer(_args(first), env)
    assert done.returncode == 0, done.output
    assert _calls(sim) == dict.fromkeys(NUMBERS, 1)

    variants = [
        _write(tmp_path / "contacts (1).csv", NUMBERS),  # downloaded again
        _write(tmp_path / "contacts.csv.bak.csv", NUMBERS, newline="\n"),  # a final newline
        _write(tmp_path / "fixed.csv", NUMBERS, names="Persn"),  # a typo fixed
    ]
    for variant in variants:
        plan = run_dialer([*_args(variant), "--dry-run"], env)
        assert plan.returncode == 0, plan.output
        assert "20 numbers were called in the last 20 h, by campaign contacts-" in plan.stdout
        done = run_dialer(_args(variant), env)
        assert done.returncode == 0, done.output
        assert "Traceback" not in done.output
        rows = _report(variant)
        assert {r["status"] for r in rows} == {"suppressed"}, rows
        assert all(
            r["error"].startswith("called ") and " ago by campaign contacts-" in r["error"]
            for r in rows
        ), rows
    assert _calls(sim) == dict.fromkeys(NUMBERS, 1), "someone was phoned twice"

    # --recall-after 0 turns the guard off: the user asked for it
    again = _write(tmp_path / "again.csv", NUMBERS[:2])
    done = run_dialer([*_args(again), "--recall-after", "0"], env)
    assert done.returncode == 0, done.output
    assert _calls(sim)[NUMBERS[0]] == 2


def test_two_copies_started_at_once_in_two_processes_call_each_number_once(
    sim: SimulatorHandle, api_key: str, tmp_path: Path
) -> None:
    env = dialer_env(tmp_path / "home", base_url=sim.base_url, api_key=api_key)
    a = _write(tmp_path / "a.csv", NUMBERS)
    b = _write(tmp_path / "b.csv", NUMBERS, names="Copy")
    procs = [DialerProcess.start(_args(a), env), DialerProcess.start(_args(b), env)]
    try:
        results = [p.wait(timeout_s=120) for p in procs]
    finally:
        for p in procs:
            p.ensure_stopped()
    for done in results:
        assert done.returncode == 0, done.output
    assert _calls(sim) == dict.fromkeys(NUMBERS, 1), "someone was phoned twice"
    statuses = Counter(r["status"] for f in (a, b) for r in _report(f))
    assert statuses["suppressed"] == 20 and sum(statuses.values()) == 40
