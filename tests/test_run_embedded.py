"""`dialer run` end to end in embedded mode: the installed command as a real subprocess, against
the simulator over real HTTP in this process (speed 600: a 2-minute call lasts 0.2 s).

What the contract promises a person running a campaign: one report row per input row with the
input unchanged, each valid number called exactly once whatever happens to the process (killed,
Ctrl-C once or twice, run again), a dry run that needs no key, and clear exits for a refused
key or an unknown agent. The simulator's audit (every call it created) is the ground truth for
"called once". No test sleeps for a fixed time: each waits for a condition, with a deadline.
"""

from __future__ import annotations

import csv
import re
import shlex
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import openpyxl
import pytest

from campaigns.report.csv_file import safe_cell
from dialer.settings import Secret
from dialer.simulator.config import AuditEntry
from tests.cli_support import (
    DIALER,
    DialerProcess,
    Done,
    dialer_env,
    run_args,
    run_dialer,
    wait_until,
)
from tests.simulator_server import SimulatorHandle

pytestmark = pytest.mark.integration

SPEED = 600.0
RESULT_COLUMNS = [
    "to_number",
    "status",
    "outcome",
    "call_id",
    "duration",
    "attempts",
    "started_at",
    "completed_at",
    "recording",
    "transcript",
    "error",
]
API_FINAL = {"completed", "failed", "no_answer", "busy"}
CONTRACT_STATUSES = API_FINAL | {
    "invalid",
    "duplicate",
    "suppressed",
    "rejected",
    "unknown",
    "not_called",
    "ready",
}
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)$")


# --- the messy list ------------------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    cells: list[str]
    status: str  # "called" (a final API status), "invalid" or "duplicate"
    e164: str = ""
    first_row: int = 0  # for a duplicate: the report row number that carries the call


MESSY_HEADER = ["ID", "name", "Phone", " Notes ", "Ville"]
MESSY = [
    Contact(
        ["00123", "Smith, Jr., Ursula", "(206) 451-3657", "=1+2", "Seattle"],
        "called",
        "+12064513657",
    ),
    Contact(
        ["00124", 'Wojciech "Ace" Jones', "+44 20 7946 0429", '=HYPERLINK("x")', "Londres"],
        "called",
        "+442079460429",
    ),
    Contact(
        ["007", "Văn Ferreira", "206.451.3657", "@SUM(A1)", "Hà Nội"],
        "duplicate",
        "+12064513657",
        first_row=2,
    ),
    Contact(["0100", "Björn O'Brien", "415-555-01", "line one\nline two", ""], "invalid"),
    Contact(["0101", "Zoë Ünal", "=1+2", "+cmd|' /C calc'!A0", "Zürich"], "invalid"),
    Contact(["0102", "", "", "no phone at all", ""], "invalid"),
    Contact(
        ["0103", "Søren Müller", "+33 1 42 68 53 00", "  padded  ", "Paris"],
        "called",
        "+33142685300",
    ),
    Contact(
        ["0104", "Ana-María Núñez", "0049 30 901820", "-2+3", "Berlin"], "called", "+4930901820"
    ),
    Contact(
        ["0105", "Carriage\r\nReturn", "+1 206 451 3657", "same as row 2", ""],
        "duplicate",
        "+12064513657",
        first_row=2,
    ),
    Contact(["0106", "陈伟", "+81 3-3224-9999", "日本語のメモ", "東京"], "called", "+81332249999"),
    Contact(["0107", "Dmitri", "1-312-421-5517", "", ""], "called", "+13124215517"),
    Contact(
        ["0108", "Dmitri again", "13124215517", "", ""], "duplicate", "+13124215517", first_row=12
    ),
    Contact(["0109", "tab\there", "+1 (312) 421-5514", "'quoted'", ""], "called", "+13124215514"),
    Contact(["0110", "Not UK", "+44 7700 900123", "", ""], "invalid"),
]
CALLED = [c for c in MESSY if c.status == "called"]
# One of each final status, so every kind of row is checked; the rest complete.
FORCED = {"+12064513657": "busy", "+442079460429": "no_answer", "+4930901820": "failed"}


def final_status(contact: Contact) -> str:
    """The status the report must give the row after a run."""
    return FORCED.get(contact.e164, "completed") if contact.status == "called" else contact.status


def planned_status(contact: Contact) -> str:
    """The status a dry run's report must give the row."""
    return "ready" if contact.status == "called" else contact.status


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows([header, *rows])
    return path


def numbers_list(path: Path, count: int) -> Path:
    """`count` valid, distinct US numbers in a plain two-column list."""
    rows = [[f"Person {n}", f"(206) 451-{n:04d}"] for n in range(count)]
    return write_csv(path, ["Name", "Phone"], rows)


# --- reading reports back ------------------------------------------------------------------


def read_csv_report(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        header, *rows = list(csv.reader(file))
    return header, rows


def read_xlsx_report(path: Path) -> tuple[list[str], list[list[str]], list[str]]:
    """The Outcomes sheet as text (empty cells as ""), and the workbook's sheet names. Fails
    on any formula cell: input must come back as text."""
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.worksheets[0]
    formulas = [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    assert not formulas, f"cells stored as formulas: {formulas}"
    table = [[_xlsx_text(c.value) for c in row] for row in sheet.iter_rows()]
    width = len(table[0])
    header, *rows = [row + [""] * (width - len(row)) for row in table]
    return header, rows, workbook.sheetnames


def summary_counts(path: Path) -> dict[str, int]:
    """The `Summary` sheet's counts by status (its rows of a name and a whole number)."""
    sheet = openpyxl.load_workbook(path, read_only=True)["Summary"]
    pairs = (row[:2] for row in sheet.iter_rows(values_only=True) if len(row) >= 2)
    return {name: count for name, count in pairs if isinstance(name, str) and type(count) is int}


def _xlsx_text(value: object) -> str:
    return "" if value is None else str(value)


def column(header: list[str], rows: list[list[str]], name: str) -> list[str]:
    index = header.index(name)
    return [row[index] for row in rows]


# --- what every finished run must show ------------------------------------------------------


def numbers_called(audit: list[AuditEntry]) -> Counter[str]:
    return Counter(entry.to_number for entry in audit)


def assert_nobody_called_twice(audit: list[AuditEntry]) -> None:
    twice = {number: n for number, n in numbers_called(audit).items() if n > 1}
    assert not twice, f"numbers called more than once: {twice}"


def assert_report_knows_every_call(
    header: list[str], rows: list[list[str]], audit: list[AuditEntry]
) -> None:
    """Every call the API made is on exactly one report row, and no row names a call the API
    never made: nobody was phoned without the report saying so."""
    reported = [cid for cid in column(header, rows, "call_id") if cid]
    assert Counter(reported) == Counter(entry.call_id for entry in audit)


def assert_clean_exit(done: Done, code: int = 0) -> None:
    assert done.returncode == code, done.output
    assert "Traceback" not in done.stdout + done.stderr, done.output


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def messy_sim(start_sim: Callable[..., SimulatorHandle]) -> SimulatorHandle:
    """The simulator with every final status forced on some number of the messy list."""
    return start_sim(speed=SPEED, outcome_by_number=lambda number: FORCED.get(number, "completed"))


def env_for(sim: SimulatorHandle, api_key: str, tmp_path: Path) -> dict[str, str]:
    return dialer_env(tmp_path / "home", base_url=sim.base_url, api_key=api_key)


# --- 1. a messy list, CSV and XLSX ------------------------------------------------------------


def assert_messy_report(
    header: list[str],
    rows: list[list[str]],
    audit: list[AuditEntry],
    *,
    formulas_quoted: bool = False,  # a CSV report: formula-looking cells behind a `'`
) -> None:
    assert header == [*MESSY_HEADER, *RESULT_COLUMNS]
    assert len(rows) == len(MESSY)
    width = len(MESSY_HEADER)
    by_number = {entry.to_number: entry for entry in audit}
    for number, (row, contact) in enumerate(zip(rows, MESSY, strict=True), start=2):
        expected = [safe_cell(c) for c in contact.cells] if formulas_quoted else contact.cells
        assert row[:width] == expected, f"row {number}: input cells changed"
        result = dict(zip(RESULT_COLUMNS, row[width:], strict=True))
        assert result["to_number"] == contact.e164, f"row {number}: {result}"
        if contact.status == "called":
            assert_called_row(result, by_number[contact.e164], contact, number)
        else:
            assert result["status"] == contact.status, f"row {number}: {result}"
            assert result["error"], f"row {number} says nothing of why it was not called"
            assert result["call_id"] == "" and result["attempts"] == "0", f"row {number}"
        if contact.status == "duplicate":
            assert f"row {contact.first_row}" in result["error"], f"row {number}: {result}"
    assert numbers_called(audit) == Counter(c.e164 for c in CALLED)


def assert_called_row(result: dict[str, str], call: AuditEntry, contact: Contact, row: int) -> None:
    expected = final_status(contact)
    assert result["status"] == expected, f"row {row}: {result}"
    assert result["call_id"] == call.call_id, f"row {row}"
    assert result["attempts"] == "1" and result["error"] == "", f"row {row}: {result}"
    assert ISO_UTC.match(result["completed_at"]), f"row {row}: {result}"
    if expected == "completed":
        assert ISO_UTC.match(result["started_at"]), f"row {row}: {result}"
        assert result["duration"] and result["recording"], f"row {row}: {result}"
        # the simulator's transcript greets `variables["name"]`: the row's cells were sent
        assert contact.cells[1] in result["transcript"], f"row {row}: {result}"


def test_messy_list_csv_report(tmp_path: Path, messy_sim: SimulatorHandle, api_key: str) -> None:
    contacts = write_csv(tmp_path / "messy.csv", MESSY_HEADER, [c.cells for c in MESSY])
    report = tmp_path / "out" / "messy.outcomes.csv"
    done = run_dialer(run_args(contacts, report), env_for(messy_sim, api_key, tmp_path))
    assert_clean_exit(done)
    assert "progress:" in done.stdout, "no plain progress lines without a terminal"
    assert f"Report: {report}" in done.stdout
    header, rows = read_csv_report(report)
    assert_messy_report(header, rows, messy_sim.sim.audit(), formulas_quoted=True)


def test_messy_list_xlsx_report(tmp_path: Path, messy_sim: SimulatorHandle, api_key: str) -> None:
    contacts = write_csv(tmp_path / "messy.csv", MESSY_HEADER, [c.cells for c in MESSY])
    report = tmp_path / "messy.outcomes.xlsx"
    done = run_dialer(run_args(contacts, report), env_for(messy_sim, api_key, tmp_path))
    assert_clean_exit(done)
    header, rows, sheets = read_xlsx_report(report)
    assert sheets[:2] == ["Outcomes", "Summary"]
    assert_messy_report(header, rows, messy_sim.sim.audit())
    expected = Counter(map(final_status, MESSY))
    summary = summary_counts(report)
    assert {status: summary.get(status) for status in expected} == expected


# --- 2. killed midway, run again ------------------------------------------------------------


KILL_ROWS = 150
KILL_MAX_ACTIVE = 10


def test_sigkill_midway_then_rerun_calls_nobody_twice(
    tmp_path: Path, simulator: SimulatorHandle, api_key: str
) -> None:
    contacts = numbers_list(tmp_path / "people.csv", KILL_ROWS)
    report = tmp_path / "people.outcomes.csv"
    args = run_args(contacts, report, "--rate", "40/s", "--max-active", str(KILL_MAX_ACTIVE))
    # a row killed mid-POST is in doubt: the rerun proves it absent by the call list, read back
    # past this horizon after its intent (120 s by default: longer than this test waits)
    env = {**env_for(simulator, api_key, tmp_path), "DIALER_VERIFY_AFTER_S": "5"}
    audit = simulator.sim.audit
    first = DialerProcess.start(args, env)
    try:
        wait_until(lambda: len(audit()) >= 30, timeout_s=20, what="30 calls before the kill")
        first.kill()
    finally:
        first.ensure_stopped()
    calls_at_kill = len(audit())
    assert calls_at_kill < KILL_ROWS, "the run ended before it was killed: slow it down"

    again = run_dialer(args, env)
    assert_clean_exit(again)
    calls = audit()
    assert_nobody_called_twice(calls)
    header, rows = read_csv_report(report)
    statuses = Counter(column(header, rows, "status"))
    assert set(statuses) <= API_FINAL | {"unknown"}, statuses
    # Only a row killed between its intent and its POST can be unknown: one at a time.
    assert statuses["unknown"] <= 1, statuses
    assert_report_knows_every_call(header, rows, calls)
    assert len(calls) + statuses["unknown"] == KILL_ROWS  # each row: a call, or unknown
    print(f"\nkilled after {calls_at_kill} calls; the rerun took {again.seconds:.1f} s; {statuses}")


# --- 3. Ctrl-C --------------------------------------------------------------------------------


INTERRUPT_ROWS = 40


def resume_command(output: str) -> list[str]:
    """The command the run printed to resume it, as argv for the installed `dialer`."""
    match = re.search(r"(?:To resume|resume): (dialer .+)$", output, re.MULTILINE)
    assert match, f"no resume command in:\n{output}"
    program, *args = shlex.split(match.group(1))
    assert program == DIALER.name
    return args


def start_and_wait_for_calls(
    args: list[str], env: dict[str, str], sim: SimulatorHandle, calls: int
) -> DialerProcess:
    proc = DialerProcess.start(args, env)
    try:
        wait_until(lambda: len(sim.sim.audit()) >= calls, timeout_s=20, what=f"{calls} calls")
    except BaseException:
        proc.ensure_stopped()
        raise
    return proc


def assert_finished_cleanly(report: Path, sim: SimulatorHandle, rows_expected: int) -> None:
    calls = sim.sim.audit()
    assert_nobody_called_twice(calls)
    header, rows = read_csv_report(report)
    assert len(rows) == rows_expected
    statuses = Counter(column(header, rows, "status"))
    assert set(statuses) <= API_FINAL | {"unknown"}, statuses
    assert statuses["unknown"] <= 1, statuses
    assert_report_knows_every_call(header, rows, calls)


def test_ctrl_c_once_stops_dialing_writes_report_and_resumes(
    tmp_path: Path, simulator: SimulatorHandle, api_key: str
) -> None:
    contacts = numbers_list(tmp_path / "people.csv", INTERRUPT_ROWS)
    report = tmp_path / "people.outcomes.csv"
    args = run_args(contacts, report, "--rate", "20/s", "--max-active", "5")
    env = env_for(simulator, api_key, tmp_path)
    proc = start_and_wait_for_calls(args, env, simulator, 10)
    try:
        proc.interrupt()
        calls_at_interrupt = len(simulator.sim.audit())
        stopped = proc.wait(timeout_s=20)
    finally:
        proc.ensure_stopped()
    assert_clean_exit(stopped, 130)
    assert "Stopping" in stopped.stdout
    calls = simulator.sim.audit()
    assert len(calls) <= calls_at_interrupt + 1, "kept dialing after Ctrl-C"  # one POST in flight
    header, rows = read_csv_report(report)
    statuses = Counter(column(header, rows, "status"))
    assert set(statuses) <= API_FINAL | {"not_called"}, f"live calls not waited for: {statuses}"
    assert statuses["not_called"] == INTERRUPT_ROWS - len(calls)
    assert_report_knows_every_call(header, rows, calls)

    resumed = run_dialer(resume_command(stopped.stdout), env)
    assert_clean_exit(resumed)
    assert "Resuming" in resumed.stdout
    assert_finished_cleanly(report, simulator, INTERRUPT_ROWS)
    assert len(simulator.sim.audit()) == INTERRUPT_ROWS


def test_ctrl_c_twice_leaves_at_once_and_a_rerun_completes(
    tmp_path: Path, simulator: SimulatorHandle, api_key: str
) -> None:
    contacts = numbers_list(tmp_path / "people.csv", INTERRUPT_ROWS)
    report = tmp_path / "people.outcomes.csv"
    args = run_args(contacts, report, "--rate", "20/s", "--max-active", "5")
    env = env_for(simulator, api_key, tmp_path)
    proc = start_and_wait_for_calls(args, env, simulator, 10)
    try:
        proc.interrupt()
        wait_until(lambda: "Stopping" in proc.output(), timeout_s=10, what="the first Ctrl-C")
        proc.interrupt()
        second_at = time.monotonic()
        left = proc.wait(timeout_s=10)
    finally:
        proc.ensure_stopped()
    assert_clean_exit(left, 130)
    assert time.monotonic() - second_at < 5, "the second Ctrl-C did not leave at once"
    assert "To follow" in left.stdout and "--campaign" in left.stdout, left.output
    header, rows = read_csv_report(report)  # written before leaving, as the contract says
    live = set(column(header, rows, "status")) - CONTRACT_STATUSES

    again = run_dialer(resume_command(left.stdout), env)
    assert_clean_exit(again)
    assert_finished_cleanly(report, simulator, INTERRUPT_ROWS)
    assert not live, f"statuses outside the contract in a stopped run's report: {sorted(live)}"


# --- 4. a finished campaign, run again -----------------------------------------------------------


def test_finished_campaign_run_again_calls_nobody(
    tmp_path: Path, simulator: SimulatorHandle, api_key: str
) -> None:
    contacts = numbers_list(tmp_path / "people.csv", 5)
    report = tmp_path / "people.outcomes.csv"
    env = env_for(simulator, api_key, tmp_path)
    assert_clean_exit(run_dialer(run_args(contacts, report), env))
    calls = simulator.sim.audit()
    first_report = read_csv_report(report)
    report.unlink()

    again = run_dialer(run_args(contacts, report), env)
    assert_clean_exit(again)
    assert simulator.sim.audit() == calls
    assert "already finished" in again.stdout and "nobody was called" in again.stdout
    assert "--campaign" in again.stdout  # how to call the list again
    assert read_csv_report(report) == first_report


# --- 5. dry run ---------------------------------------------------------------------------------


def test_dry_run_needs_no_key_and_calls_nobody(tmp_path: Path, simulator: SimulatorHandle) -> None:
    contacts = write_csv(tmp_path / "messy.csv", MESSY_HEADER, [c.cells for c in MESSY])
    report = tmp_path / "plan.csv"
    env = dialer_env(tmp_path / "home", base_url=simulator.base_url)  # no VOXPRIA_API_KEY
    done = run_dialer([*run_args(contacts, report), "--dry-run"], env)
    assert_clean_exit(done)
    assert simulator.sim.stats() == {}, "a dry run sent requests"
    expected = Counter(map(planned_status, MESSY))
    for status, count in expected.items():
        assert re.search(rf"^\s*{status}\s+{count}\s*$", done.stdout, re.MULTILINE), done.stdout
    header, rows = read_csv_report(report)
    assert column(header, rows, "status") == list(map(planned_status, MESSY))
    assert [row[: len(MESSY_HEADER)] for row in rows] == [
        [safe_cell(cell) for cell in c.cells] for c in MESSY
    ]


# --- 6. a refused key, 7. an unknown agent ---------------------------------------------------


def test_refused_key_exits_1_without_showing_the_key(
    tmp_path: Path, simulator: SimulatorHandle, api_key: str
) -> None:
    contacts = numbers_list(tmp_path / "people.csv", 3)
    wrong_key = "agl_sk_wrong_0123456789abcdef"
    env = dialer_env(tmp_path / "home", base_url=simulator.base_url, api_key=wrong_key)
    done = run_dialer(run_args(contacts, tmp_path / "out.csv"), env)
    assert_clean_exit(done, 1)
    assert "API key" in done.stderr and "401" in done.stderr, done.output
    assert wrong_key not in done.output and api_key not in done.output
    assert simulator.sim.audit() == []


def test_key_revoked_mid_run_stops_at_the_first_401(
    tmp_path: Path, simulator: SimulatorHandle, api_key: str
) -> None:
    contacts = numbers_list(tmp_path / "people.csv", INTERRUPT_ROWS)
    report = tmp_path / "people.outcomes.csv"
    args = run_args(contacts, report, "--rate", "20/s", "--max-active", "5")
    env = env_for(simulator, api_key, tmp_path)
    proc = start_and_wait_for_calls(args, env, simulator, 10)
    accepted = simulator.sim.config
    try:
        simulator.sim.config = replace(accepted, api_key=Secret("agl_sk_someone_else_0000"))
        refused = proc.wait(timeout_s=20)
    finally:
        simulator.sim.config = accepted
        proc.ensure_stopped()
    assert_clean_exit(refused, 1)
    assert "API key" in refused.stderr and api_key not in refused.output
    header, rows = read_csv_report(report)
    statuses = Counter(column(header, rows, "status"))
    assert "rejected" not in statuses, f"rows marked instead of stopping: {statuses}"
    assert statuses["not_called"] > 0, statuses
    live = set(statuses) - CONTRACT_STATUSES

    again = run_dialer(args, env)  # the key is accepted again: the run resumes
    assert_clean_exit(again)
    assert_finished_cleanly(report, simulator, INTERRUPT_ROWS)
    assert not live, f"statuses outside the contract in a stopped run's report: {sorted(live)}"


def test_unknown_agent_exits_2_naming_it(
    tmp_path: Path, simulator: SimulatorHandle, api_key: str
) -> None:
    contacts = numbers_list(tmp_path / "people.csv", 3)
    args = run_args(contacts, tmp_path / "out.csv")
    args[args.index("agent_demo")] = "agent_nobody_knows"
    done = run_dialer(args, env_for(simulator, api_key, tmp_path))
    assert_clean_exit(done, 2)
    assert "agent_nobody_knows" in done.stderr, done.output
    assert simulator.sim.audit() == []
