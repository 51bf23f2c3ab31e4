"""The beat on the cluster, end to end: two `dialer beat` processes at once and a real
`dialer worker` on a real Redis (its own database), the simulator over real HTTP. Today's run
is due as the beats start (it starts at local midnight, and its window is open all day): one
beat starts it, the worker dials it, and a beat writes its report when it ends."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis

from tests.cli_support import DialerProcess, Done, wait_until
from tests.cluster_support import Workers, cluster_env
from tests.simulator_server import SimulatorHandle
from tests.test_schedule_support import campaign_file, us_numbers, write_list

pytestmark = pytest.mark.integration

FILE = """
[campaigns.daily]
agent = "agent_demo"
schedule = "0 0 * * *"
timezone = "%s"
window = "any"
contacts = "list.csv"
report = "out/{name}/{date}.csv"
max_active = 20
"""


def zone_away_from_midnight() -> str:
    """A zone where today is not about to end: the test's run is today's from start to end."""
    now = datetime.now(UTC)
    for zone in ("UTC", "Asia/Tokyo", "America/New_York"):
        if 1 <= now.astimezone(ZoneInfo(zone)).hour <= 21:
            return zone
    raise AssertionError("three zones eight hours apart cannot all be near midnight")


def stop(beats: list[DialerProcess]) -> list[Done]:
    """Ctrl-C to every beat; each must end within 20 s (one that does not is killed, and the
    others are still waited for, so that no beat outlives the test)."""
    for beat in beats:
        beat.interrupt()
    done, failures = [], []
    for beat in beats:
        try:
            done.append(beat.wait(timeout_s=20))
        except AssertionError as exc:
            failures.append(str(exc))
    assert not failures, "\n".join(failures)
    return done


def test_two_beats_start_todays_run_once_and_write_its_report(
    tmp_path: Path,
    api_key: str,
    cluster_redis: redis.Redis[str],
    start_sim: Callable[..., SimulatorHandle],
) -> None:
    zone = zone_away_from_midnight()
    cid = f"daily-{datetime.now(ZoneInfo(zone)).date()}"
    file = campaign_file(tmp_path, FILE % zone)
    numbers = us_numbers(20)
    write_list(tmp_path / "list.csv", numbers)
    report = tmp_path / "out" / "daily" / f"{cid.removeprefix('daily-')}.csv"
    claim = f"dialer:sched:{cid}"
    sim = start_sim(outcome_by_number=lambda number: "completed")
    env = cluster_env(sim.base_url, api_key, tmp_path, PYTHONUNBUFFERED="1", NO_COLOR="1")
    workers = Workers(env, tmp_path)
    workers.start(1)
    # the second as a script's background job is started: with SIGINT ignored, which the beat
    # must not keep (Ctrl-C stops both)
    beats = [
        DialerProcess.start(["beat", str(file), "--tick-s", "0.5"], env, sigint_ignored=ignored)
        for ignored in (False, True)
    ]
    try:
        # the report is written before its claim is settled: wait for both, not to stop the
        # beat between the two
        wait_until(
            lambda: report.exists() and cluster_redis.get(claim) == "reported",
            timeout_s=90,
            what="the run's report",
        )
    finally:
        try:
            done = stop(beats)
        finally:
            workers.stop_all()  # even when a beat failed: a worker left behind takes shifts
    said = "".join(d.stdout for d in done)
    assert [d.returncode for d in done] == [0, 0], said + "".join(d.stderr for d in done)
    assert said.count(f"{cid}: started") == 1, said
    assert Counter(e.to_number for e in sim.sim.audit()) == Counter(numbers)
    with report.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["status"] for r in rows] == ["completed"] * len(numbers)
    assert cluster_redis.get(claim) == "reported"
