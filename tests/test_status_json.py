"""`dialer status --json`, embedded: one JSON object scripts can read; an unknown id is exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

DIALER = str(Path(sys.executable).with_name("dialer"))


def run(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    env = {"DIALER_HOME": str(home), "PATH": "/usr/bin:/bin",
           "VOXPRIA_CALL_LIMIT": "20/s", "VOXPRIA_REQUEST_LIMIT": "100/s"}  # fmt: skip
    return subprocess.run([DIALER, *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.integration
def test_status_json_gives_a_finished_campaigns_figures(tmp_path: Path) -> None:
    contacts = tmp_path / "list.csv"
    contacts.write_text("name,phone\nA,+12125550101\nB,+12125550102\nC,12\n")
    home = tmp_path / "state"
    done = run(["run", str(contacts), "--agent", "agent_demo", "--simulate", "--window", "any",
                "--campaign", "c1", "--quiet"], home)  # fmt: skip
    assert done.returncode == 0, done.stderr
    shown = run(["status", "c1", "--json"], home)
    assert shown.returncode == 0, shown.stderr
    view = json.loads(shown.stdout)
    assert "workers" not in view  # embedded: no workers to show
    (campaign,) = view["campaigns"]
    assert (campaign["campaign"], campaign["state"], campaign["left"]) == ("c1", "finished", 0)
    assert sum(campaign["counts"].values()) == 3 and campaign["counts"]["invalid"] == 1
    running = json.loads(run(["status", "--json"], home).stdout)
    assert running == {"campaigns": []}  # none is running any more
    unknown = run(["status", "nope", "--json"], home)
    assert unknown.returncode == 2 and "No campaign 'nope'" in unknown.stderr
