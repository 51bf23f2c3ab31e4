"""The outcome report: content, CSV and XLSX fidelity, Summary, overflow, whole-or-nothing."""

from __future__ import annotations

import contextlib
import csv
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from campaigns.report.csv_file import is_formula_like
from campaigns.report.output import ReportWriteError, check_report_path
from campaigns.report.rows import RESULT_COLUMNS, ReportRow, dry_run_rows, report_rows
from campaigns.report.summary import REPORT_STATUSES
from campaigns.report.summary_sheet import ReportInfo
from campaigns.report.writer import write_report
from campaigns.store.rows import CampaignMeta, CampaignState, NewRow, Row, RowStatus
from dialer.errors import DialerError, InputError

HEADERS = ["name", "phone", "note"]

# Cells a spreadsheet or a CSV reader would love to "help" with.
TRICKY_CELLS = [
    "00123",
    "+14155550100",
    "=1+2",
    '=HYPERLINK("http://x","y")',
    "@SUM(A1)",
    "-5",
    "+5",
    "1e5",
    "TRUE",
    "2024-01-02",
    "http://example.com/a?b=c",
    "Zoë Müller, Ñúñez",
    'she said "hi", then left',
    "line one\nline two",
    "crlf one\r\ntwo",
    "",
    "  padded  ",
    "<r><t>rich?</t></r>",
    "a & b < c > d",
    "tab\there",
    "日本語",
]

INFO = ReportInfo(
    campaign_id="camp-1",
    agent_id="agent-7",
    source="=cmd|' /C calc'!A0",  # user text too: must stay text on the Summary sheet
    state="finished",
    started_at=1_700_000_000.0,
    ended_at=1_700_003_600.0,
)


def make_row(cells: list[str], status: str = "completed", **fields: object) -> ReportRow:
    values: dict[str, object] = {
        "to_number": "+14155550100",
        "status": status,
        "outcome": "",
        "call_id": "",
        "duration": "",
        "attempts": 0,
        "started_at": "",
        "completed_at": "",
        "recording": "",
        "transcript": "",
        "error": "",
    }
    values.update(fields)
    return ReportRow(cells=cells, **values)  # type: ignore[arg-type]


def tricky_rows() -> list[ReportRow]:
    """Every tricky cell in every input column, with varied statuses and API fields."""
    rows = []
    for i, cell in enumerate(TRICKY_CELLS):
        rows.append(
            make_row(
                [cell, TRICKY_CELLS[-1 - i], f"row {i}"],
                status=("completed", "no_answer", "invalid", "busy")[i % 4],
                outcome="=2+2" if i == 0 else "interested",
                call_id=f"call_{i}",
                duration=str(10 * i) if i % 4 == 0 else "",
                attempts=i % 3,
                started_at="2024-05-01T10:00:00Z",
                completed_at="2024-05-01T10:01:00Z",
                recording="https://rec.example/r.mp3",
                transcript='agent: "hello"\nperson: =yes',
                error="" if i % 4 != 2 else "not a phone number",
            )
        )
    return rows


def expected_result(row: ReportRow) -> list[str]:
    return [
        row.to_number,
        row.status,
        row.outcome,
        row.call_id,
        row.duration,
        str(row.attempts),
        row.started_at,
        row.completed_at,
        row.recording,
        row.transcript,
        row.error,
    ]


def sheet_values(sheet: Worksheet) -> list[list[object]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def as_text(value: object) -> str:
    return "" if value is None else str(value)


# --- mapping the store's rows ---


def store_row(status: RowStatus, **fields: object) -> Row:
    return Row(idx=0, cells=["a"], to_number="+14155550100", status=status, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "live_status", "state", "expected"),
    [
        (RowStatus.PENDING, "", CampaignState.RUNNING, "pending"),
        (RowStatus.PENDING, "", CampaignState.STOPPED, "not_called"),
        (RowStatus.PENDING, "", CampaignState.FINISHED, "not_called"),
        (RowStatus.PENDING, "", CampaignState.FAILED, "not_called"),
        (RowStatus.DIALING, "", CampaignState.RUNNING, "dialing"),
        (RowStatus.DIALING, "", CampaignState.FAILED, "unknown"),
        (RowStatus.DIALING, "", CampaignState.STOPPED, "unknown"),
        (RowStatus.PENDING, "", CampaignState.STOPPING, "not_called"),
        (RowStatus.DIALING, "", CampaignState.STOPPING, "dialing"),
        (RowStatus.ACTIVE, "ringing", CampaignState.RUNNING, "ringing"),
        (RowStatus.ACTIVE, "", CampaignState.RUNNING, "queued"),
        (RowStatus.ACTIVE, "in_progress", CampaignState.FAILED, "unknown"),
        (RowStatus.COMPLETED, "", CampaignState.RUNNING, "completed"),
        (RowStatus.UNKNOWN, "", CampaignState.FINISHED, "unknown"),
        (RowStatus.DUPLICATE, "", CampaignState.FINISHED, "duplicate"),
    ],
)
def test_report_rows_show_where_each_row_stands(
    status: RowStatus, live_status: str, state: CampaignState, expected: str
) -> None:
    [row] = report_rows([store_row(status, live_status=live_status)], state)
    assert row.status == expected


def test_a_redial_the_run_never_made_shows_the_last_attempt() -> None:
    row = store_row(RowStatus.PENDING, live_status="busy", attempts=1, call_id="call_1")
    [stopped] = report_rows([row], CampaignState.STOPPED)
    assert (stopped.status, stopped.call_id, stopped.attempts) == ("busy", "call_1", 1)
    assert "redial" in stopped.error
    [running] = report_rows([row], CampaignState.RUNNING)
    assert running.status == "pending"


def test_report_rows_explain_rows_left_behind() -> None:
    rows = [
        store_row(RowStatus.PENDING),
        store_row(RowStatus.PENDING, error="outside the calling window"),
        store_row(RowStatus.DIALING),
    ]
    pending, windowed, dialing = report_rows(rows, CampaignState.FAILED)
    assert pending.error  # says why the run left it
    assert windowed.error == "outside the calling window"  # its own reason wins
    assert dialing.error == "the run stopped before this call could be confirmed"


def test_report_rows_carry_the_call_fields() -> None:
    row = store_row(
        RowStatus.COMPLETED,
        attempts=2,
        call_id="c9",
        outcome="sale",
        duration="61",
        started_at="s",
        completed_at="e",
        recording="r",
        transcript="t",
    )
    [got] = report_rows([row], CampaignState.FINISHED)
    assert (got.cells, got.attempts, got.call_id, got.outcome, got.duration) == (
        ["a"],
        2,
        "c9",
        "sale",
        "61",
    )
    assert (got.started_at, got.completed_at, got.recording, got.transcript) == (
        "s",
        "e",
        "r",
        "t",
    )


def test_dry_run_rows_mark_callable_rows_ready() -> None:
    rows = [
        NewRow(idx=0, cells=["x"], to_number="+14155550100", status=RowStatus.PENDING),
        NewRow(idx=1, cells=["y"], to_number="", status=RowStatus.INVALID, error="no number"),
    ]
    ready, invalid = dry_run_rows(rows)
    assert (ready.status, ready.attempts, ready.cells) == ("ready", 0, ["x"])
    assert (invalid.status, invalid.error) == ("invalid", "no number")


def test_report_info_from_meta_treats_unset_times_as_none() -> None:
    meta = CampaignMeta("c", "a", "list.csv", ["phone"], {}, started_at=5.0)
    info = ReportInfo.from_meta(meta)
    assert (info.campaign_id, info.state, info.started_at, info.ended_at) == (
        "c",
        "running",
        5.0,
        None,
    )


# --- CSV ---


def test_csv_raw_keeps_every_input_cell_and_the_result_columns(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    rows = tricky_rows()
    write_report(path, HEADERS, rows, INFO, csv_raw=True)

    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel then reads UTF-8
    assert raw.split(b"\n", 1)[0].endswith(b"\r")  # RFC 4180 line endings
    with path.open(encoding="utf-8-sig", newline="") as f:
        lines = list(csv.reader(f))
    assert lines[0] == [*HEADERS, *RESULT_COLUMNS]
    assert len(lines) == len(rows) + 1
    for line, row in zip(lines[1:], rows, strict=True):
        assert line[: len(HEADERS)] == row.cells
        assert line[len(HEADERS) :] == expected_result(row)


def test_csv_by_default_keeps_every_cell_but_makes_formulas_text(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    rows = tricky_rows()
    write_report(path, HEADERS, rows, INFO)
    with path.open(encoding="utf-8-sig", newline="") as f:
        lines = list(csv.reader(f))
    assert lines[0] == [*HEADERS, *RESULT_COLUMNS]
    assert len(lines) == len(rows) + 1
    neutralised = 0
    for line, row in zip(lines[1:], rows, strict=True):
        for got, cell in zip(line, [*row.cells, *expected_result(row)], strict=True):
            if is_formula_like(cell):
                assert got == "'" + cell
                neutralised += 1
            else:
                assert got == cell  # numbers, phone numbers, text: as read
    assert neutralised >= 3  # the formula cells of tricky_rows, and the API's `=2+2`


def test_csv_writes_colliding_header_names_as_given(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_report(path, ["status", "phone"], [make_row(["vip", "1"])], INFO)
    with path.open(encoding="utf-8-sig", newline="") as f:
        header, line = list(csv.reader(f))
    assert header == ["status", "phone", *RESULT_COLUMNS]
    assert line[:3] == ["vip", "1", "+14155550100"]


def test_short_rows_are_padded_so_results_stay_under_their_names(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_report(path, HEADERS, [make_row(["only one"])], INFO)
    with path.open(encoding="utf-8-sig", newline="") as f:
        _, line = list(csv.reader(f))
    assert line[:4] == ["only one", "", "", "+14155550100"]


def test_counts_cover_every_status_and_mid_run_ones(tmp_path: Path) -> None:
    rows = [make_row(["a"], "completed"), make_row(["b"], "ringing"), make_row(["c"], "busy")]
    counts = write_report(tmp_path / "out.csv", ["x"], rows, INFO)
    assert list(counts)[: len(REPORT_STATUSES)] == list(REPORT_STATUSES)
    assert counts["completed"] == 1
    assert counts["busy"] == 1
    assert counts["ringing"] == 1
    assert counts["ready"] == 0


# --- XLSX ---


def test_xlsx_keeps_every_input_cell_as_text_and_no_formulas(tmp_path: Path) -> None:
    path = tmp_path / "out.XLSX"  # the extension is read without regard to case
    rows = tricky_rows()
    write_report(path, HEADERS, rows, INFO)

    book = openpyxl.load_workbook(path)
    assert book.sheetnames[:2] == ["Outcomes", "Summary"]  # Analysis and others follow
    sheet = book["Outcomes"]
    values = sheet_values(sheet)
    assert values[0] == [*HEADERS, *RESULT_COLUMNS]
    assert len(values) == len(rows) + 1
    attempts_col = len(HEADERS) + RESULT_COLUMNS.index("attempts")
    for line, row in zip(values[1:], rows, strict=True):
        assert [as_text(v) for v in line[: len(HEADERS)]] == row.cells
        assert [as_text(v) for v in line[len(HEADERS) :]] == expected_result(row)
        assert line[attempts_col] == row.attempts  # a number cell, so it sums
    for sheet_name in book.sheetnames:
        for cells in book[sheet_name].iter_rows():
            for cell in cells:
                assert cell.data_type != "f", (sheet_name, cell.coordinate, cell.value)
                if cell.column - 1 != attempts_col and cell.value is not None:
                    assert cell.data_type == "s" or not sheet_name.startswith("Outcomes")
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:N{len(rows) + 1}"


def test_xlsx_summary_counts_rates_and_campaign(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    rows = [
        make_row(["a"], "completed", duration="30"),
        make_row(["b"], "completed", duration="90"),
        make_row(["c"], "no_answer"),
        make_row(["d"], "busy"),
        make_row(["e"], "invalid"),
        make_row(["f"], "not_called"),
    ]
    counts = write_report(path, ["name"], rows, INFO)

    book = openpyxl.load_workbook(path)
    summary = {as_text(line[0]): line[1] for line in sheet_values(book["Summary"]) if line[0]}
    for status in REPORT_STATUSES:
        assert summary[status] == counts[status]
    assert summary["completed"] == 2
    assert summary["failed"] == 0
    assert summary["Total"] == len(rows)
    assert summary["Answer rate"] == pytest.approx(2 / 4)
    assert summary["Total talk time (s)"] == pytest.approx(120)
    assert summary["Average talk time (s)"] == pytest.approx(60)
    assert summary["Campaign id"] == "camp-1"
    assert summary["Agent"] == "agent-7"
    assert summary["Source"] == INFO.source
    assert summary["State"] == "finished"
    assert summary["Started (UTC)"] == "2023-11-14T22:13:20Z"
    assert summary["Ended (UTC)"] == "2023-11-14T23:13:20Z"
    assert book["Summary"]._charts  # the status chart


def test_xlsx_rows_beyond_a_sheet_continue_on_further_sheets(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    rows = [make_row([f"r{i}"], attempts=i) for i in range(7)]
    write_report(path, ["name"], rows, INFO, max_rows_per_sheet=3)

    book = openpyxl.load_workbook(path)
    names = ["Outcomes", "Summary", "Outcomes 2", "Outcomes 3", "Outcomes 4"]
    assert book.sheetnames[:5] == names
    seen = []
    for name in ("Outcomes", "Outcomes 2", "Outcomes 3", "Outcomes 4"):
        header, *lines = sheet_values(book[name])
        assert header == ["name", *RESULT_COLUMNS]
        assert len(lines) <= 2
        seen += [line[0] for line in lines]
    assert seen == [f"r{i}" for i in range(7)]
    notes = " ".join(as_text(v) for line in sheet_values(book["Summary"]) for v in line)
    assert "Outcomes 2, Outcomes 3, Outcomes 4 come after this sheet" in notes


def test_xlsx_cuts_a_text_longer_than_excel_holds(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    long_transcript = "word " * 10_000  # 50,000 characters
    write_report(path, ["name"], [make_row(["n"], transcript=long_transcript)], INFO)
    [_, line] = sheet_values(openpyxl.load_workbook(path)["Outcomes"])
    transcript = as_text(line[1 + RESULT_COLUMNS.index("transcript")])
    assert transcript == long_transcript[:32_767]


def test_xlsx_with_no_rows_still_has_header_and_summary(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    counts = write_report(path, HEADERS, [], INFO)
    book = openpyxl.load_workbook(path)
    assert sheet_values(book["Outcomes"]) == [[*HEADERS, *RESULT_COLUMNS]]
    assert sum(counts.values()) == 0


# --- paths and whole-or-nothing ---


@pytest.mark.parametrize("name", ["out.txt", "out", "out.xls", "out.csv.bak"])
def test_other_extensions_are_refused_naming_the_option(tmp_path: Path, name: str) -> None:
    with pytest.raises(InputError, match=r"--report .*\.csv.*\.xlsx"):
        check_report_path(tmp_path / name)
    with pytest.raises(InputError):
        write_report(tmp_path / name, HEADERS, [], INFO)
    assert list(tmp_path.iterdir()) == []


def test_check_report_path_accepts_either_case_and_refuses_a_folder(tmp_path: Path) -> None:
    check_report_path(tmp_path / "a.CSV")
    check_report_path(tmp_path / "a.Xlsx")
    (tmp_path / "taken.csv").mkdir()
    with pytest.raises(InputError, match="folder"):
        check_report_path(tmp_path / "taken.csv")


def test_missing_folders_are_created(tmp_path: Path) -> None:
    path = tmp_path / "new" / "deeper" / "out.csv"
    write_report(path, HEADERS, tricky_rows(), INFO)
    assert path.is_file()


def test_a_folder_at_the_path_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    path.mkdir()
    with pytest.raises(ReportWriteError, match="folder") as caught:
        write_report(path, HEADERS, tricky_rows(), INFO)
    assert str(path) in str(caught.value)
    assert [p.name for p in tmp_path.iterdir()] == ["out.xlsx"]


def failing_rows(after: int) -> Iterator[ReportRow]:
    yield from tricky_rows()[:after]
    raise RuntimeError("the store went away")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_failing_write_leaves_the_old_report_untouched(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"out{suffix}"
    write_report(path, HEADERS, tricky_rows(), INFO)
    before = path.read_bytes()

    with pytest.raises(RuntimeError):
        write_report(path, HEADERS, failing_rows(after=5), INFO)

    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_a_locked_target_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "out.xlsx"
    path.write_bytes(b"old report")

    def locked(src: object, dst: object) -> None:
        raise PermissionError(13, "Permission denied", str(dst))  # as Windows does under Excel

    monkeypatch.setattr(os, "replace", locked)
    with pytest.raises(ReportWriteError) as caught:
        write_report(path, HEADERS, tricky_rows(), INFO)
    message = str(caught.value)
    assert str(path) in message
    assert "close it" in message
    assert "dialer report camp-1" in message
    assert isinstance(caught.value, DialerError)
    assert path.read_bytes() == b"old report"
    assert [p.name for p in tmp_path.iterdir()] == ["out.xlsx"]


WRITE_FOREVER = """
import itertools, sys
from pathlib import Path
from campaigns.report.summary_sheet import ReportInfo
from campaigns.report.rows import ReportRow
from campaigns.report.writer import write_report

rows = (
    ReportRow([str(i), "x" * 200], "+1", "completed", "", "", "", 1, "", "", "", "", "")
    for i in itertools.count()
)
info = ReportInfo("c", "a", "s", "running", None, None)
write_report(Path(sys.argv[1]), ["n", "pad"], rows, info)
"""


def wait_for_temp_file(folder: Path, name: str, min_size_bytes: int, deadline_s: float) -> None:
    """Until the writer's temporary file for `name` exists and holds `min_size_bytes`."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        for temp in folder.glob(f".{name}.*.tmp"):
            with contextlib.suppress(FileNotFoundError):
                if temp.stat().st_size >= min_size_bytes:
                    return
        time.sleep(0.02)
    pytest.fail(f"no temporary file for {name} appeared within {deadline_s} s")


@pytest.mark.integration
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize("had_old_report", [True, False])
def test_a_killed_writer_never_leaves_a_torn_report(
    tmp_path: Path, suffix: str, had_old_report: bool
) -> None:
    path = tmp_path / f"out{suffix}"
    if had_old_report:
        write_report(path, HEADERS, tricky_rows(), INFO)
    before = path.read_bytes() if had_old_report else None

    # A killed XLSX writer leaves XlsxWriter's scratch folder behind: keep it in tmp_path.
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    writer = subprocess.Popen([sys.executable, "-c", WRITE_FOREVER, str(path)], env=env)
    # A CSV's temporary file grows as rows stream; an XLSX's is filled only at the end (the
    # rows go to XlsxWriter's scratch files first), so its mere existence means mid-write.
    min_size_bytes = 100_000 if suffix == ".csv" else 0
    try:
        wait_for_temp_file(tmp_path, path.name, min_size_bytes, deadline_s=30)
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)

    if had_old_report:
        assert path.read_bytes() == before
    else:
        assert not path.exists()
