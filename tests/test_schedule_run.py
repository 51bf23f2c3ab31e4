"""`dialer run-scheduled` and `dialer schedule check` end to end in embedded mode: the installed
command as a real subprocess, the simulator over real HTTP (speed 600). The simulator's audit
(every call it created) is the ground truth for "called once"."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli_support import Done, dialer_env, run_dialer
from tests.simulator_server import SimulatorHandle
from tests.test_schedule_support import campaign_file, us_numbers, write_list

pytestmark = pytest.mark.integration

FILE = """
[defaults]
agent = "agent_demo"
timezone = "America/New_York"
schedule = "0 9 * * MON-FRI"
window = "any"

[campaigns.reminders]
contacts = "lists/reminders-{date}.csv"
report = "out/{name}/{date}.csv"
skip_reached_within = "7d"

[campaigns.strict]
contacts = "lists/strict-{date}.csv"
missing = "fail"
"""
MONDAY, TUESDAY, WEDNESDAY, SATURDAY = "2026-11-23", "2026-11-24", "2026-11-25", "2026-11-28"


@pytest.fixture
def sim(start_sim: Callable[..., SimulatorHandle]) -> SimulatorHandle:
    return start_sim(speed=600.0, outcome_by_number=lambda number: "completed")


def read_report(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.DictReader(file))


def ok(done: Done, code: int = 0) -> Done:
    assert done.returncode == code, done.output
    assert "Traceback" not in done.stdout + done.stderr, done.output
    return done


def test_a_day_runs_once_and_the_next_day_skips_who_was_reached(
    tmp_path: Path, sim: SimulatorHandle, api_key: str
) -> None:
    numbers = us_numbers(6)
    file = campaign_file(tmp_path, FILE)
    write_list(tmp_path / "lists" / f"reminders-{MONDAY}.csv", numbers[:4])
    write_list(tmp_path / "lists" / f"reminders-{TUESDAY}.csv", numbers[2:])  # 2 seen, 2 new
    env = dialer_env(tmp_path / "home", base_url=sim.base_url, api_key=api_key)
    args = ["run-scheduled", str(file), "reminders", "--date"]

    ok(run_dialer([*args, MONDAY], env))
    monday = read_report(tmp_path / "out" / "reminders" / f"{MONDAY}.csv")
    assert [r["status"] for r in monday] == ["completed"] * 4

    again = ok(run_dialer([*args, MONDAY], env))  # the same day again: nobody is called
    assert "already finished" in again.stdout, again.output
    assert len(sim.sim.audit()) == 4

    ok(run_dialer([*args, TUESDAY], env))
    tuesday = read_report(tmp_path / "out" / "reminders" / f"{TUESDAY}.csv")
    assert [(r["Phone"], r["status"], r["error"]) for r in tuesday] == [
        (numbers[2], "suppressed", f"reached on {MONDAY} by reminders"),
        (numbers[3], "suppressed", f"reached on {MONDAY} by reminders"),
        (numbers[4], "completed", ""),
        (numbers[5], "completed", ""),
    ]
    assert Counter(e.to_number for e in sim.sim.audit()) == Counter(numbers)


def test_a_missing_list_skips_the_day_or_fails_and_a_day_off_does_nothing(
    tmp_path: Path, sim: SimulatorHandle, api_key: str
) -> None:
    file = campaign_file(tmp_path, FILE)
    env = dialer_env(tmp_path / "home", base_url=sim.base_url, api_key=api_key)
    skipped = ok(run_dialer(["run-scheduled", str(file), "reminders", "--date", WEDNESDAY], env))
    assert f"reminders-{WEDNESDAY}.csv does not exist" in skipped.stdout, skipped.output
    assert "skipped" in skipped.stdout
    failed = ok(run_dialer(["run-scheduled", str(file), "strict", "--date", WEDNESDAY], env), 2)
    assert 'missing = "fail"' in failed.stderr and str(file) in failed.stderr, failed.output
    day_off = ok(run_dialer(["run-scheduled", str(file), "reminders", "--date", SATURDAY], env))
    assert "has no run on Sat 2026-11-28" in day_off.stdout, day_off.output
    unknown = ok(run_dialer(["run-scheduled", str(file), "remindrs"], env), 2)
    assert "its campaigns are reminders, strict" in unknown.stderr
    assert sim.sim.audit() == []


def test_schedule_check_prints_the_next_runs_or_names_the_mistake(tmp_path: Path) -> None:
    file = campaign_file(tmp_path, FILE)
    env = dialer_env(tmp_path / "home")
    checked = ok(run_dialer(["schedule", "check", str(file)], env))
    assert "2 campaigns, valid" in checked.stdout
    lines = [line for line in checked.stdout.splitlines() if line.endswith(" UTC)")]
    assert len(lines) == 10  # five runs of each campaign, local and UTC
    assert all((" EST " in line or " EDT " in line) and "09:00" in line for line in lines)
    bad = campaign_file(tmp_path, FILE.replace('window = "any"', 'window = "9-5"'))
    refused = ok(run_dialer(["schedule", "check", str(bad)], env), 2)
    assert f"{bad}: [defaults], key 'window'" in refused.stderr, refused.output


def test_schedule_check_takes_last_day_and_refuses_a_form_croniter_does_not_know(
    tmp_path: Path,
) -> None:
    env = dialer_env(tmp_path / "home")
    last_day = campaign_file(tmp_path, FILE.replace("0 9 * * MON-FRI", "0 9 L * *"))
    checked = ok(run_dialer(["schedule", "check", str(last_day)], env))
    assert "Traceback" not in checked.output
    days = [line.split()[1] for line in checked.stdout.splitlines() if line.endswith(" UTC)")]
    assert days and all(d == d[:8] + str(_month_end(d)) for d in days), checked.output
    unknown = campaign_file(tmp_path, FILE.replace("0 9 * * MON-FRI", "0 9 * * 5L"))
    refused = ok(run_dialer(["schedule", "check", str(unknown)], env), 2)
    assert f"{unknown}: [defaults], key 'schedule'" in refused.stderr, refused.output
    assert "Traceback" not in refused.output


def _month_end(iso_day: str) -> int:
    import calendar

    year, month = int(iso_day[:4]), int(iso_day[5:7])
    return calendar.monthrange(year, month)[1]
