"""`dialer export`: a week of a scheduled campaign's runs in one report, found in the store by
their ids, the run date first, headers of different days lined up by name, one Summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from campaigns.backends import STATE_FILE
from campaigns.schedule.export import find_runs, write_export
from campaigns.store.rows import CampaignState
from campaigns.store.sqlite_store import SqliteStore
from tests.cli_support import dialer_env, run_dialer
from tests.test_schedule_support import Outcome, stored_run, us_numbers

RESULT_COLUMNS = ["to_number", "status", "outcome", "call_id", "duration", "attempts"]
NUMBERS = us_numbers(12)


def week(store: SqliteStore) -> None:
    """Mon 2026-11-23 .. Fri 27 (Friday still running), lists whose columns change midweek,
    and runs that are not part of the export around them."""
    two = ("Name", "Phone")
    for day, (a, b) in zip((23, 24), ((0, 1), (2, 3)), strict=True):
        stored_run(
            store,
            "reminders",
            date(2026, 11, day),
            [Outcome(NUMBERS[a]), Outcome(NUMBERS[b], "busy")],
            headers=two,
        )
    stored_run(
        store,
        "reminders",
        date(2026, 11, 25),
        [Outcome(NUMBERS[4], "no_answer")],
        headers=("Name", "Phone", "Balance"),
        cells=[["Wed", NUMBERS[4], "12.50"]],
    )
    stored_run(
        store,
        "reminders",
        date(2026, 11, 26),
        [Outcome(NUMBERS[5])],
        headers=("Phone", "Name", "City"),
        cells=[[NUMBERS[5], "Thu", "Paris"]],
    )
    stored_run(
        store,
        "reminders",
        date(2026, 11, 27),
        [Outcome(NUMBERS[6]), Outcome(NUMBERS[7], calls=0)],
        headers=two,
        state=CampaignState.RUNNING,
    )
    stored_run(store, "reminders", date(2026, 11, 22), [Outcome(NUMBERS[8])])  # before --since
    stored_run(store, "reminders-extra", date(2026, 11, 24), [Outcome(NUMBERS[9])])  # another


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    s = SqliteStore(tmp_path / "home" / STATE_FILE)
    week(s)
    yield s
    s.close()


def read_sheet(path: Path) -> tuple[list[str], list[list[str]], dict[str, int]]:
    workbook = openpyxl.load_workbook(path)
    table = [
        ["" if c.value is None else str(c.value) for c in row]
        for row in workbook.worksheets[0].iter_rows()
    ]
    header, *rows = table
    summary = workbook["Summary"]
    pairs = (row[:2] for row in summary.iter_rows(values_only=True) if len(row) >= 2)
    counts = {k: v for k, v in pairs if isinstance(k, str) and type(v) is int}
    return header, rows, counts


def test_a_week_of_runs_in_one_report(tmp_path: Path, store: SqliteStore) -> None:
    runs = find_runs(store, "reminders", date(2026, 11, 23), date(2026, 11, 29))
    assert [r.day.day for r in runs] == [23, 24, 25, 26, 27]
    out = tmp_path / "week.xlsx"
    counts = write_export(store, "reminders", runs, out)
    header, rows, summary = read_sheet(out)
    assert header[:5] == ["run_date", "Name", "Phone", "Balance", "City"]
    assert header[5:11] == RESULT_COLUMNS
    cells = [row[:5] for row in rows]
    assert cells == [
        ["2026-11-23", "Person 0", NUMBERS[0], "", ""],
        ["2026-11-23", "Person 1", NUMBERS[1], "", ""],
        ["2026-11-24", "Person 0", NUMBERS[2], "", ""],
        ["2026-11-24", "Person 1", NUMBERS[3], "", ""],
        ["2026-11-25", "Wed", NUMBERS[4], "12.50", ""],
        ["2026-11-26", "Thu", NUMBERS[5], "", "Paris"],  # its columns in another order
        ["2026-11-27", "Person 0", NUMBERS[6], "", ""],
        ["2026-11-27", "Person 1", NUMBERS[7], "", ""],
    ]
    statuses = [row[header.index("status")] for row in rows]
    assert statuses == [
        "completed",
        "busy",
        "completed",
        "busy",
        "no_answer",
        "completed",
        "completed",
        "pending",
    ]
    assert Counter(statuses) == {k: v for k, v in counts.items() if v}
    assert {k: summary[k] for k in ("completed", "busy", "no_answer")} == {
        "completed": 4,
        "busy": 2,
        "no_answer": 1,
    }
    sheet = openpyxl.load_workbook(out)["Summary"]
    text = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert "reminders: 5 runs, 2026-11-23 to 2026-11-27" in text
    assert "finished 4, running 1" in text


@pytest.mark.integration
def test_dialer_export_finds_the_runs_by_name(tmp_path: Path, store: SqliteStore) -> None:
    env = dialer_env(tmp_path / "home")
    out = tmp_path / "week.csv"
    args = ["export", "reminders", "--since", "2026-11-23", "--until", "2026-11-26"]
    done = run_dialer([*args, "--out", str(out)], env)
    assert done.returncode == 0, done.output
    assert "Runs 2026-11-23 to 2026-11-26" in done.stdout
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("run_date,Name,Phone,Balance,City,to_number,status")
    assert len(lines) == 1 + 6

    empty = ["--since", "2020-01-01", "--until", "2020-01-31"]
    none = run_dialer(["export", "reminders", *empty, "--out", str(out)], env)
    assert none.returncode == 2 and "No run of 'reminders'" in none.stderr, none.output
    swapped = run_dialer(
        [*args[:2], "--since", "2026-11-26", "--until", "2026-11-23", "--out", str(out)], env
    )
    assert swapped.returncode == 2 and "swap them" in swapped.stderr, swapped.output
