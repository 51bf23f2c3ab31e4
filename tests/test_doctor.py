"""`dialer doctor` against the simulator over real HTTP: the installed command, as a user runs
it before a first campaign."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from dialer.cli.doctor import examine
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


def _account(items: list[dict[str, object]]) -> VoxpriaClient:
    """An account whose GET /credits answers a balance and GET /calls pages `items` as given."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/credits"):
            return httpx.Response(200, json={"success": True, "data": {"balance": 9.0}})
        page, limit = int(request.url.params["page"]), int(request.url.params["limit"])
        chosen = items[(page - 1) * limit : page * limit]
        return httpx.Response(200, json={"success": True, "data": chosen})

    return VoxpriaClient(
        "http://api.test/api/v1", Secret("k"), transport=httpx.MockTransport(handle)
    )


def _calls(n: int, *, newest_first: bool, without: str = "") -> list[dict[str, object]]:
    calls = [
        {
            "callId": f"c{i}",
            "toNumber": f"+1415555{i:04d}",
            "agentId": "agent_demo",
            "createdAt": f"2026-01-01T10:{i:02d}:00Z",
            "status": "completed",
        }
        for i in range(n)
    ]
    calls = calls[::-1] if newest_first else calls
    return [{k: v for k, v in c.items() if k != without} for c in calls]


UNFIT = {  # an account's call list -> the finding that says it is unfit
    "oldest first": ({"newest_first": False}, "[fail] call list order: not newest first"),
    "no toNumber": ({"without": "toNumber"}, "[fail] call list fields: items lack toNumber"),
    "no createdAt": ({"without": "createdAt"}, "[fail] call list fields: items lack createdAt"),
}


@pytest.mark.parametrize("unfit", list(UNFIT))
def test_doctor_reports_a_call_list_unfit_for_verification(unfit: str) -> None:
    shape, finding = UNFIT[unfit]
    with _account(_calls(7, **{"newest_first": True, **shape})) as client:  # type: ignore[arg-type]
        lines = [f.line() for f in examine(client, None, 1_800_000_000.0)]
    assert any(line.startswith(finding) for line in lines), lines
    with _account(_calls(7, newest_first=True)) as client:  # the same account, fit for it
        fit = [f.line() for f in examine(client, None, 1_800_000_000.0)]
    assert not [line for line in fit if line.startswith("[fail]")], fit
