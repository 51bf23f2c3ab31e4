"""The attempt log (`dialer audit`, the report's Attempts sheet): one line per POST /calls the
simulator received and created, a redial and a lost answer among them, each with the local time
of the recipient's zone. The simulator over real HTTP, the installed `dialer` as a subprocess."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from campaigns.report.attempts import ATTEMPT_COLUMNS
from dialer.simulator.faults import Fault
from tests.cli_support import dialer_env, run_dialer
from tests.simulator_server import StartSim

CID = "audit-test"
BUSY = "+12125550147"  # answered busy once, so redialled once
# Zones read from the number: Seattle, New York, London, Tokyo, Sydney.
PHONES = [
    *(f"(206) 451-{n:04d}" for n in range(6)),
    "(212) 555-0147",
    *(f"+44 20 7946 {n:04d}" for n in range(3)),
    *(f"+81 3-1234-{n:04d}" for n in range(3)),
    "+61 2 9374 4000",
]


def write_contacts(path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["Name", "Phone"])
        writer.writerows([f"Person {n}", phone] for n, phone in enumerate(PHONES))
    return path


def read_log(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        header, *lines = list(csv.reader(file))
    assert tuple(header) == ATTEMPT_COLUMNS
    return [dict(zip(header, line, strict=True)) for line in lines]


def assert_local_times_match_zones(line: dict[str, str]) -> None:
    at = datetime.fromisoformat(line["attempted_at_utc"].replace("Z", "+00:00"))
    zones, local_times = line["zones"].split("; "), line["local_time"].split("; ")
    assert zones and len(zones) == len(local_times), line
    for zone, text in zip(zones, local_times, strict=True):
        local = datetime.fromisoformat(text)
        assert local == at, line  # the same instant...
        assert local.utcoffset() == at.astimezone(ZoneInfo(zone)).utcoffset(), line  # ...there


@pytest.mark.integration
def test_the_attempt_log_has_one_line_per_call_created(
    start_sim: StartSim, api_key: str, tmp_path: Path
) -> None:
    sim = start_sim(
        speed=600.0,
        call_limit=None,
        request_limit=None,
        outcome_by_number=lambda number: "busy" if number == BUSY else "completed",
    )
    sim.sim.force(Fault.LOST_AFTER_CREATE, 2)  # two answers lost: verified, then adopted
    env = dialer_env(
        tmp_path / "home",
        base_url=sim.base_url,
        api_key=api_key,
        DIALER_VERIFY_AFTER_S="0.5",
    )
    contacts = write_contacts(tmp_path / "people.csv")
    report = tmp_path / "people.outcomes.xlsx"
    run = run_dialer(
        [
            "run",
            str(contacts),
            "--agent",
            "agent_demo",
            "--window",
            "any",
            "--report",
            str(report),
            "--campaign",
            CID,
            "--redial",
            "busy=1",
            "--redial-after",
            "1s",
        ],
        env,
        timeout_s=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    log_path = tmp_path / "attempts.csv"
    done = run_dialer(["audit", CID, "--out", str(log_path)], env)
    assert done.returncode == 0, done.stdout + done.stderr

    audit = sim.sim.audit()
    lines = read_log(log_path)
    assert sorted(line["call_id"] for line in lines) == sorted(e.call_id for e in audit)
    assert all(line["outcome"] == "created" and line["window"] == "any" for line in lines)
    assert [line["to_number"] for line in lines].count(BUSY) == 2  # the call and its redial
    by_call = {e.call_id: e for e in audit}
    for line in lines:
        assert_local_times_match_zones(line)
        at = datetime.fromisoformat(line["attempted_at_utc"].replace("Z", "+00:00"))
        entry = by_call[line["call_id"]]
        assert entry.to_number == line["to_number"]
        assert abs(at.timestamp() - entry.created_s) < 5  # the intent, just before the POST
    zones = {line["zones"] for line in lines}
    assert {"America/Los_Angeles", "Europe/London", "Asia/Tokyo"} <= zones, zones

    workbook = openpyxl.load_workbook(report)
    names = workbook.sheetnames
    assert names.index("Attempts") > names.index("Analysis") > names.index("Summary")
    sheet = [
        ["" if cell is None else cell for cell in row]
        for row in workbook["Attempts"].iter_rows(values_only=True)
    ]
    assert tuple(sheet[0]) == ATTEMPT_COLUMNS
    assert all(isinstance(cell, str) for row in sheet for cell in row)
    assert [dict(zip(ATTEMPT_COLUMNS, row, strict=True)) for row in sheet[1:]] == lines


@pytest.mark.integration
def test_audit_of_an_unknown_campaign_is_one_clear_message(tmp_path: Path) -> None:
    out = tmp_path / "log.csv"
    done = run_dialer(["audit", "no-such-campaign", "--out", str(out)], dialer_env(tmp_path))
    assert done.returncode == 2
    message = (done.stdout + done.stderr).strip()
    assert "no-such-campaign" in message and "Traceback" not in message
    assert len(message.splitlines()) <= 2, message
    assert not out.exists()


@pytest.mark.integration
def test_audit_refuses_an_output_that_is_neither_csv_nor_xlsx(tmp_path: Path) -> None:
    done = run_dialer(["audit", CID, "--out", str(tmp_path / "log.txt")], dialer_env(tmp_path))
    assert done.returncode == 2
    assert "--out" in done.stdout + done.stderr and "Traceback" not in done.stdout + done.stderr


@pytest.mark.integration
def test_a_post_that_created_nothing_is_logged_too(
    start_sim: StartSim, api_key: str, tmp_path: Path
) -> None:
    sim = start_sim(speed=600.0, call_limit=None, request_limit=None)
    sim.sim.force(Fault.ERROR_BEFORE_CREATE, 1)  # a 500: in doubt, proven absent, sent again
    env = dialer_env(
        tmp_path / "home", base_url=sim.base_url, api_key=api_key, DIALER_VERIFY_AFTER_S="0.5"
    )
    contacts = write_contacts(tmp_path / "people.csv")
    run = run_dialer(
        ["run", str(contacts), "--agent", "agent_demo", "--window", "any", "--campaign", CID],
        env,
        timeout_s=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    log_path = tmp_path / "attempts.xlsx"
    done = run_dialer(["audit", CID, "--out", str(log_path)], env)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = list(openpyxl.load_workbook(log_path)["Attempts"].iter_rows(values_only=True))
    lines = [dict(zip(ATTEMPT_COLUMNS, row, strict=True)) for row in rows[1:]]
    posts = sim.sim.stats()["POST /calls"]
    outcomes = [line["outcome"] for line in lines]
    print(f"POSTs: {posts}; {outcomes}; run {run.seconds:.1f} s")
    assert len(lines) == posts
    assert outcomes.count("created") == len(sim.sim.audit()) == len(PHONES)
    assert outcomes.count("not created") == 1
