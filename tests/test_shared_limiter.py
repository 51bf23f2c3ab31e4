"""One limiter per account on one machine: embedded processes sharing a state folder share
its limiter (dialer.limiter.SharedFileLimiter), so the account limits hold across them."""

from __future__ import annotations

import bisect
import threading
import time
from pathlib import Path

import pytest

from dialer.clock import SystemClock
from dialer.limiter import LocalLimiter, SharedFileLimiter
from dialer.settings import Rate, Secret
from tests.cli_support import DialerProcess, dialer_env
from tests.simulator_server import running_simulator

FAST = Rate(100_000, 1)


def max_in_window(instants: list[float], window_s: float = 1.0) -> int:
    times = sorted(instants)
    return max(
        (bisect.bisect_left(times, t + window_s) - i for i, t in enumerate(times)), default=0
    )


def _hammer(limiter: SharedFileLimiter, until: float, out: list[float]) -> None:
    clock = SystemClock()
    while limiter.wait_call("agent-1", None, clock, stop=lambda: time.time() >= until):
        out.append(time.time())


def test_two_limiters_on_one_file_keep_the_account_limit(tmp_path: Path) -> None:
    limit = Rate(20, 1)
    clock = SystemClock()
    a, b = (
        SharedFileLimiter(tmp_path / "limiter.sqlite", "acct", limit, FAST, clock) for _ in range(2)
    )
    starts: list[list[float]] = [[], []]
    until = time.time() + 2.0
    threads = [
        threading.Thread(target=_hammer, args=(lim, until, out))
        for lim, out in zip((a, b), starts, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    both = starts[0] + starts[1]
    assert starts[0] and starts[1], "both took slots"
    assert max_in_window(both) <= limit.count + 1, max_in_window(both)
    assert len(both) >= 30  # and the rate is used, not wasted
    # an account of its own is not slowed by this one
    other = SharedFileLimiter(tmp_path / "limiter.sqlite", "other", limit, FAST, clock)
    assert other.acquire_call("agent-1", None) == 0.0


def test_the_gcra_step_agrees_with_the_in_process_limiter(tmp_path: Path) -> None:
    class Fixed:
        def __init__(self) -> None:
            self.t = 1_800_000_000.0

        def now(self) -> float:
            return self.t

        def sleep(self, seconds: float) -> None:
            self.t += seconds

    clock = Fixed()
    limit, agent = Rate(7, 1), Rate(3, 1)
    shared = SharedFileLimiter(tmp_path / "l.sqlite", "acct", limit, FAST, clock)
    local = LocalLimiter(limit, FAST, clock)
    for step in range(60):
        rate = agent if step % 3 else None
        assert shared.acquire_call("a", rate) == pytest.approx(local.acquire_call("a", rate))
        clock.t += 0.05


@pytest.mark.integration
def test_two_dialer_runs_sharing_a_state_folder_stay_within_the_account_limit(
    tmp_path: Path, api_key: str
) -> None:
    with running_simulator(
        api_key=Secret(api_key), speed=600.0, call_limit=None, request_limit=None
    ) as sim:
        env = dialer_env(
            tmp_path / "home", base_url=sim.base_url, api_key=api_key, VOXPRIA_CALL_LIMIT="5/s"
        )
        procs = []
        for name, first in (("a", 0), ("b", 100)):
            contacts = tmp_path / f"{name}.csv"
            lines = ["name,phone"] + [f"P,+1415555{i:04d}" for i in range(first, first + 20)]
            contacts.write_text("\n".join(lines) + "\n", encoding="utf-8")
            args = ["run", str(contacts), "--agent", "agent_demo", "--window", "any"]
            procs.append(DialerProcess.start(args, env))
        try:
            done = [p.wait(timeout_s=120) for p in procs]
        finally:
            for p in procs:
                p.ensure_stopped()
        assert all(d.returncode == 0 for d in done), [d.output for d in done]
        created = [e.created_s for e in sim.sim.audit()]
    assert len(created) == 40
    worst = max_in_window(created)
    print(f"most calls in any 1 s window: {worst} (limit 5/s)")
    assert worst <= 5 + 1
