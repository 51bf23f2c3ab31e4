"""Outcome analytics checked against a hand-built campaign whose answer rates are known: rows
taken through the real SQLite store's transitions at chosen times, the report written by the
real writer, the XLSX read back with openpyxl."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from campaigns.backends import STATE_FILE
from campaigns.report.analysis import (
    answer_rates,
    answer_rates_by_attempt,
    answer_rates_by_weekday,
    hms,
    outcome_frame,
    rows_by_day_and_status,
)
from campaigns.report.analysis_sheet import write_analysis_workbook
from campaigns.report.rows import report_rows
from campaigns.report.summary_sheet import ReportInfo
from campaigns.report.writer import write_report
from campaigns.schedule.export import export_rows, find_runs, write_export
from campaigns.store.rows import CampaignMeta, CampaignState, NewRow, RowStatus, RowStore
from campaigns.store.sqlite_store import SqliteStore
from dialer.errors import InputError
from dialer.notebook import load_outcomes
from dialer.settings import Settings
from dialer.voxpria.models import Call, CallStatus
from tests.cli_support import dialer_env, run_dialer

NY, LONDON = "America/New_York", "Europe/London"
US_MOBILE_ZONES = ("America/Chicago", "America/New_York")


def at(hour_utc: int, day: int = 5) -> float:
    """Epoch seconds on 2026-01-`day` (5 is a Monday: EST is UTC-5, London is on UTC)."""
    return datetime(2026, 1, day, hour_utc, tzinfo=UTC).timestamp()


@dataclass(frozen=True)
class Spec:
    number: str
    zones: tuple[str, ...]
    dials: Sequence[float]  # when each attempt's POST was made
    status: str  # the last attempt's; the earlier ones were unanswered
    duration_s: float = 0.0


# NY 09:00 local (14 UTC): 4 calls, 1 answered. NY 15:00 (20 UTC): 2 calls, 2 answered.
# London 14:00 (14 UTC): 4 calls, 2 answered (one on its second attempt, on Tuesday).
# Attempts: 11 first attempts (the mobile of no known zone included), 4 answered; 3 second
# attempts, 1 answered (London's).
SPECS = [
    Spec("+12125550001", (NY,), [at(14)], "completed", 61),
    Spec("+12125550002", (NY,), [at(14)], "no_answer"),
    Spec("+12125550003", (NY,), [at(13), at(14)], "busy"),
    Spec("+12125550004", (NY,), [at(14)], "failed"),
    Spec("+12125550005", (NY,), [at(20)], "completed", 3600),
    Spec("+12125550006", (NY,), [at(20)], "completed", 59),
    Spec("+442079460001", (LONDON,), [at(14)], "completed", 120),
    Spec("+442079460002", (LONDON,), [at(13), at(14, day=6)], "completed", 30),
    Spec("+442079460003", (LONDON,), [at(13), at(14)], "no_answer"),
    Spec("+442079460004", (LONDON,), [at(14)], "busy"),
    Spec("+13125550000", US_MOBILE_ZONES, [at(15)], "no_answer"),  # zone not known
]
NOT_CALLED = ["not-a-number"]


def build(store: RowStore, cid: str, specs: Sequence[Spec] = SPECS) -> CampaignMeta:
    meta = CampaignMeta(cid, "agent_1", "list.csv", ["Phone"], {})
    rows = [
        NewRow(i, [s.number], s.number, RowStatus.PENDING, zones=s.zones)
        for i, s in enumerate(specs)
    ]
    rows += [
        NewRow(len(specs) + i, [text], "", RowStatus.INVALID, error="bad")
        for i, text in enumerate(NOT_CALLED)
    ]
    assert store.create_campaign(meta, rows)
    for idx, spec in enumerate(specs):
        for attempt, dialled in enumerate(spec.dials, start=1):
            last = attempt == len(spec.dials)
            status = CallStatus(spec.status) if last else CallStatus.NO_ANSWER
            store.claim(cid, "t", dialled, 30, limit=100_000)
            assert store.begin_dial(cid, idx, "t", dialled, 30, max_active=100_000)
            answered = status is CallStatus.COMPLETED
            call = Call(
                f"c{idx}-{attempt}",
                status,
                to_number=spec.number,
                duration_s=spec.duration_s if answered else 0,
                started_at=_iso(dialled + 5) if answered else None,
            )
            assert store.call_created(cid, idx, call, dialled)
            redial = None if last else spec.dials[attempt]
            assert store.finish(cid, idx, RowStatus(status.value), call, redial_at=redial)
    store.update_campaign(cid, state=CampaignState.FINISHED, ended_at=at(23))
    got = store.get_campaign(cid)
    assert got is not None
    return got


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / STATE_FILE)


def frame_of(store: RowStore, cid: str) -> pd.DataFrame:
    meta = store.get_campaign(cid)
    assert meta is not None
    return outcome_frame(report_rows(store.iter_rows(cid), meta.state))


def rates(table: pd.DataFrame) -> dict[object, tuple[int, int]]:
    return {k: (int(v["calls"]), int(v["answered"])) for k, v in table.iterrows()}


def test_the_table_has_a_row_per_report_row_with_local_hour_zone_and_country(
    store: SqliteStore,
) -> None:
    build(store, "hand")
    frame = frame_of(store, "hand")
    assert len(frame) == len(SPECS) + len(NOT_CALLED)
    first = frame.iloc[0]
    assert (first["zone"], first["local_hour"], first["weekday"], first["country"]) == (
        NY,
        9,
        0,
        "US",
    )
    assert first["duration_s"] == 61 and first["answered"] and first["called"]
    assert frame.iloc[7]["local_hour"] == 14 and frame.iloc[7]["weekday"] == 1  # Tuesday
    mobile, invalid = frame.iloc[10], frame.iloc[11]
    assert mobile["zone"] == "several" and mobile["local_hour"] == -1 and mobile["called"]
    assert not invalid["called"] and pd.isna(invalid["called_at"]) and invalid["zone"] == ""


def test_answer_rates_by_hour_weekday_attempt_zone_and_country(store: SqliteStore) -> None:
    build(store, "hand")
    frame = frame_of(store, "hand")
    assert rates(answer_rates(frame, "local_hour")) == {9: (4, 1), 14: (4, 2), 15: (2, 2)}
    assert answer_rates(frame, "local_hour").loc[9, "answer_rate"] == 0.25
    assert rates(answer_rates_by_weekday(frame)) == {"Monday": (9, 4), "Tuesday": (1, 1)}
    by_attempt = answer_rates_by_attempt(frame)
    assert rates(by_attempt) == {1: (11, 4), 2: (3, 1)}
    assert by_attempt.loc[2, "answer_rate"] == pytest.approx(1 / 3)
    assert rates(answer_rates(frame, "zone")) == {LONDON: (4, 2), NY: (6, 3), "several": (1, 0)}
    assert rates(answer_rates(frame, "country")) == {"GB": (4, 2), "US": (7, 3)}
    assert hms(frame["duration_s"].sum()) == "1:04:30"  # 61+3600+59+120+30 s


def test_the_xlsx_report_has_an_analysis_sheet_third(store: SqliteStore, tmp_path: Path) -> None:
    meta = build(store, "hand")
    path = tmp_path / "report.xlsx"
    write_report(
        path,
        meta.headers,
        report_rows(store.iter_rows("hand"), meta.state),
        ReportInfo.from_meta(meta),
    )
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[:3] == ["Outcomes", "Summary", "Analysis"]
    cells = _cells(book["Analysis"])
    assert str(cells["Total talk time (h:mm:ss)"][0]) == "1:04:30"  # a duration, shown h:mm:ss
    assert cells["09:00"] == [4, 1, 0.25] and cells["15:00"] == [2, 2, 1.0]
    assert cells["Monday"] == [9, 4, pytest.approx(4 / 9)]
    assert cells["GB"] == [4, 2, 0.5]
    assert book["Analysis"]._charts, "each table has a chart"
    assert "Rows by run date and status" not in cells  # not an export
    assert book["Analysis"]["B6"].number_format == "[h]:mm:ss"


def test_an_export_adds_rows_by_day_and_status_and_the_rate_per_day(
    store: SqliteStore, tmp_path: Path
) -> None:
    build(store, "daily-2026-01-05")
    build(store, "daily-2026-01-06", SPECS[:2])
    runs = find_runs(store, "daily", date(2026, 1, 5), date(2026, 1, 6))
    path = tmp_path / "export.xlsx"
    write_export(store, "daily", runs, path)
    book = openpyxl.load_workbook(path)
    cells = _cells(book["Analysis"])
    assert "Rows by run date and status" in cells and "Answer rate per day" in cells
    header = _row_after(book["Analysis"], "Rows by run date and status")
    day_rows = [r for r in book["Analysis"].iter_rows(values_only=True) if r[0] == "2026-01-06"]
    by_status = dict(zip(header[1:], day_rows[0][1:], strict=False))
    assert by_status["completed"] == 1 and by_status["no_answer"] == 1 and by_status["invalid"] == 1
    assert day_rows[1][1:4] == (2, 1, 0.5)  # the rate per day: 2 calls, 1 answered
    frame = outcome_frame(
        export_rows(store, runs, ["Phone"]),
        ["run_date", "Phone"],
    )
    assert rows_by_day_and_status(frame).loc["2026-01-05", "completed"] == 5
    csv_path = tmp_path / "export.csv"
    write_export(store, "daily", runs, csv_path)
    with csv_path.open(encoding="utf-8-sig") as file:
        assert len(list(csv.reader(file))) == 1 + 12 + 3  # rows only, as ever


def test_the_analysis_workbook_alone_and_load_outcomes(store: SqliteStore, tmp_path: Path) -> None:
    build(store, "hand")
    store.close()
    frame = load_outcomes("hand", Settings(home=tmp_path))
    assert int(frame["answered"].sum()) == 5
    path = tmp_path / "analysis.xlsx"
    write_analysis_workbook(path, frame)
    assert openpyxl.load_workbook(path).sheetnames == ["Analysis"]
    with pytest.raises(InputError, match=r"\.xlsx"):
        write_analysis_workbook(tmp_path / "analysis.csv", frame)
    assert not (tmp_path / "analysis.csv").exists()  # refused before anything was written


def _cells(sheet: openpyxl.worksheet.worksheet.Worksheet) -> dict[str, list[object]]:
    """Each row's first cell (text) -> the values after it, up to the first empty one."""
    out: dict[str, list[object]] = {}
    for row in sheet.iter_rows(values_only=True):
        if row and isinstance(row[0], str):
            values = []
            for value in row[1:]:
                if value is None:
                    break
                values.append(value)
            out.setdefault(row[0], values)
    return out


def _row_after(sheet: openpyxl.worksheet.worksheet.Worksheet, title: str) -> tuple[object, ...]:
    rows = list(sheet.iter_rows(values_only=True))
    index = next(i for i, r in enumerate(rows) if r[0] == title)
    return rows[index + 1]


@pytest.mark.integration
def test_dialer_report_analysis_writes_the_analysis_alone(
    store: SqliteStore, tmp_path: Path
) -> None:
    build(store, "hand")
    store.close()
    env = dialer_env(tmp_path)
    path = tmp_path / "out" / "analysis.xlsx"
    path.parent.mkdir()
    done = run_dialer(["report", "hand", "--analysis", str(path)], env)
    assert done.returncode == 0, done.output
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Analysis"]
    assert _cells(book["Analysis"])["09:00"] == [4, 1, 0.25]
    wrong = run_dialer(["report", "hand", "--analysis", str(tmp_path / "a.csv")], env)
    assert wrong.returncode == 2 and "--analysis" in wrong.stderr and ".xlsx" in wrong.stderr
    neither = run_dialer(["report", "hand"], env)
    assert neither.returncode == 2 and "--out" in neither.stderr, neither.output


def test_a_row_without_a_dial_time_uses_started_at_and_garbage_is_left_out(
    store: SqliteStore,
) -> None:
    build(store, "hand")
    meta = store.get_campaign("hand")
    assert meta is not None
    rows = list(report_rows(store.iter_rows("hand"), meta.state))
    rows[0] = replace(rows[0], called_at_s=0.0, started_at="2026-01-05T20:00:05Z")  # 15:00 NY
    rows[1] = replace(rows[1], called_at_s=0.0, started_at="not a time <b>")
    frame = outcome_frame(rows)
    assert frame.iloc[0]["local_hour"] == 15
    assert pd.isna(frame.iloc[1]["called_at"]) and frame.iloc[1]["local_hour"] == -1
    assert frame.iloc[2]["local_hour"] == 9  # the others keep their dial times
