"""`dialer doctor` against the simulator over real HTTP: the installed command, as a user runs
it before a first campaign."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialer.settings import Secret
from dialer.voxpria.client import VoxpriaClient
from tests.cli_support import dialer_env, run_dialer
from tests.simulator_server import running_simulator


@pytest.mark.integration
def test_doctor_reports_key_agent_credits_limits_and_the_call_list(
    api_key: str, tmp_path: Path
) -> None:
    with running_simulator(api_key=Secret(api_key), speed=600.0) as sim:
        env = dialer_env(tmp_path / "home", base_url=sim.base_url, api_key=api_key)
        empty = run_dialer(["doctor", "--agent", "agent_demo"], env)
        assert empty.returncode == 0, empty.output
        assert "[  ok] API key: accepted" in empty.stdout
        assert "[  ok] agent agent_demo" in empty.stdout
        assert "call list: empty" in empty.stdout
        with VoxpriaClient(sim.base_url, Secret(api_key)) as client:
            for i in range(7):  # two pages of five
                client.create_call("agent_demo", f"+1415555{i:04d}", {})
        done = run_dialer(["doctor"], env)
        assert done.returncode == 0, done.output
        for line in (
            "[  ok] call list fields: items carry toNumber, agentId and createdAt",
            "[  ok] call list order: newest first",
            "[  ok] call list paging: page and limit are honoured",
            "[  ok] credits: balance",
        ):
            assert line in done.stdout, done.output
        assert "limit headers" in done.stdout and "What the dialer relies on" in done.stdout
        assert api_key not in done.output

        refused = run_dialer(["doctor"], {**env, "VOXPRIA_API_KEY": "agl_sk_wrong"})
        assert refused.returncode == 1 and "refused (401)" in refused.stdout
        assert "Traceback" not in refused.output and "agl_sk_wrong" not in refused.output
