"""One campaign, three doors, one campaign service: started on the page (its `CampaignRuns`),
stopped by `dialer run`'s Ctrl-C, resumed by `dialer run --campaign`, with real `dialer worker`s
on Redis doing the dialing. The simulator's audit, every call it created, is the ground truth
for "called once"."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from campaigns.backends import open_services
from campaigns.store.rows import CampaignState
from dialer.clock import SystemClock
from dialer.settings import Rate
from dialer.simulator.server import SimulatorHandle
from dialer.web.runs import CampaignRuns, Notice, StartRequest
from tests.cli_support import DialerProcess, run_args, run_dialer, wait_until
from tests.cluster_support import Workers, cluster_env, cluster_url, own_database
from tests.test_web_runs import ROWS, numbers_csv, policy, uploaded
from tests.web_support import SPEED, web_settings

pytestmark = pytest.mark.integration

SIGTERM_BIT = 1 << (15 - 1)  # in /proc/PID/status SigCgt: the process handles SIGTERM


@pytest.fixture
def sim(start_sim: Callable[..., SimulatorHandle]) -> SimulatorHandle:
    return start_sim(speed=SPEED)


def handles_sigterm(pid: int) -> bool:
    """Python handles SIGINT from its start; SIGTERM only once `dialer run` is following the
    campaign with its stop handler on (dialer/cli/run.py)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & SIGTERM_BIT)
    return False


def test_started_on_the_page_stopped_by_dialer_run_resumed_by_dialer_run(
    tmp_path: Path, sim: SimulatorHandle, api_key: str
) -> None:
    with own_database():
        env = cluster_env(sim.base_url, api_key, tmp_path)
        settings = web_settings(tmp_path / "home", sim, api_key, redis_url=cluster_url())
        original = numbers_csv(tmp_path / "numbers.csv")
        workers = Workers(env, tmp_path)
        services = open_services(settings, SystemClock())
        following: DialerProcess | None = None
        try:
            workers.start(1)
            # the page's door: the campaign service submits it to the workers
            runs = CampaignRuns(services, SystemClock())
            request = StartRequest(
                uploaded(settings.home, original), "numbers.csv", policy(settings, Rate(30, 60))
            )
            started = runs.start(request)
            cid = started.campaign_id
            assert started.notice in (Notice.STARTED, Notice.NO_WORKERS)
            wait_until(lambda: len(sim.sim.audit()) >= 2, timeout_s=60, what="2 calls")

            # the CLI's door: `dialer run` of the same list and id follows it; Ctrl-C stops it
            report = tmp_path / "report.csv"
            args = run_args(original, report, "--rate", "30/min", "--campaign", cid)
            following = DialerProcess.start(args, env)
            pid = following.proc.pid
            wait_until(lambda: handles_sigterm(pid), timeout_s=30, what="dialer run to follow")
            following.interrupt()
            stopped = following.wait(60)
            assert stopped.returncode == 130, stopped.output
            assert f"Resuming campaign {cid}" in stopped.stdout, stopped.output
            assert runs.meta(cid).state is CampaignState.STOPPED
            called = len(sim.sim.audit())
            assert called < ROWS, "the campaign ended before it could be stopped"
            resume = re.search(r"To resume: (dialer .+)$", stopped.stdout, re.MULTILINE)
            assert resume is not None and f"--campaign {cid}" in resume[1], stopped.output

            # `dialer run` again, same id: the campaign resumes and finishes on the workers
            done = run_dialer(run_args(original, report, "--rate", "50/s", "--campaign", cid), env)
            assert done.returncode == 0, done.output
            assert f"Resuming campaign {cid}" in done.stdout, done.output
            assert runs.meta(cid).state is CampaignState.FINISHED
            assert report.exists()
        finally:
            if following is not None:
                following.ensure_stopped()
            workers.stop_all()
            services.close()
    calls = Counter(entry.to_number for entry in sim.sim.audit())
    assert len(calls) == ROWS and set(calls.values()) == {1}, calls
