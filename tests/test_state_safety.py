"""Embedded state that cannot silently vanish, and stays private: the installed `dialer` against
the simulator over real HTTP."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from dialer.settings import Secret
from tests.cli_support import DialerProcess, dialer_env, run_dialer, wait_until
from tests.simulator_server import SimulatorHandle, running_simulator

SPEED = 600.0


@pytest.fixture
def sim(api_key: str) -> Iterator[SimulatorHandle]:
    with running_simulator(
        api_key=Secret(api_key), speed=SPEED, call_limit=None, request_limit=None
    ) as handle:
        yield handle


def _list(path: Path, n: int) -> Path:
    lines = ["name,phone"] + [f"P {i},+1415555{i:04d}" for i in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _args(contacts: Path) -> list[str]:
    return ["run", str(contacts), "--agent", "agent_demo", "--window", "any",
            "--report", str(contacts.with_suffix(".out.csv"))]  # fmt: skip


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.integration
def test_the_state_folder_deleted_mid_run_stops_the_run_with_a_clear_error(
    sim: SimulatorHandle, api_key: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    env = dialer_env(home, base_url=sim.base_url, api_key=api_key, VOXPRIA_CALL_LIMIT="15/s")
    proc = DialerProcess.start(_args(_list(tmp_path / "list.csv", 150)), env)
    try:
        wait_until(lambda: len(sim.sim.audit()) >= 10, timeout_s=60, what="10 calls")
        shutil.rmtree(home)
        done = proc.wait(timeout_s=60)
    finally:
        proc.ensure_stopped()
    assert done.returncode == 1, done.output
    assert "was deleted or replaced while this run was going on" in done.stderr, done.output
    assert "Traceback" not in done.output
    assert len(sim.sim.audit()) < 150  # it stopped, rather than ending "fine"


@pytest.mark.integration
def test_the_state_file_replaced_mid_run_stops_the_run_with_a_clear_error(
    sim: SimulatorHandle, api_key: str, tmp_path: Path
) -> None:
    """Not deleted: another file put in its place (a copy restored over it, a sync tool)."""
    home = tmp_path / "home"
    env = dialer_env(home, base_url=sim.base_url, api_key=api_key, VOXPRIA_CALL_LIMIT="15/s")
    proc = DialerProcess.start(_args(_list(tmp_path / "list.csv", 150)), env)
    try:
        wait_until(lambda: len(sim.sim.audit()) >= 10, timeout_s=60, what="10 calls")
        state = home / "campaigns.sqlite"
        shutil.copyfile(state, tmp_path / "copy.sqlite")
        os.replace(tmp_path / "copy.sqlite", state)  # the same name, another file
        done = proc.wait(timeout_s=60)
    finally:
        proc.ensure_stopped()
    assert done.returncode == 1, done.output
    assert "was deleted or replaced while this run was going on" in done.stderr, done.output
    assert "Traceback" not in done.output
    assert len(sim.sim.audit()) < 150  # it stopped, rather than ending "fine"


@pytest.mark.integration
def test_state_files_and_reports_are_private(
    sim: SimulatorHandle, api_key: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    env = dialer_env(home, base_url=sim.base_url, api_key=api_key)
    contacts = _list(tmp_path / "list.csv", 3)
    done = run_dialer(_args(contacts), env)
    assert done.returncode == 0, done.output
    assert _mode(home) == 0o700
    state = [p for p in home.iterdir() if p.name.startswith("campaigns.sqlite")]
    assert state and all(_mode(p) == 0o600 for p in state), [(p, oct(_mode(p))) for p in state]
    assert _mode(contacts.with_suffix(".out.csv")) == 0o600
