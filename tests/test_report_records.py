"""A stored campaign's CSV report, read as plain tuples (campaigns/report/records.py), is the
same file, byte for byte, as the report written from its rows one `ReportRow` at a time; on
both stores, in every campaign state, with rows in flight, short rows and formula cells."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaigns.report.csv_file import safe_cell, safe_records
from campaigns.report.records import StoredReport
from campaigns.report.summary import SummaryCounter
from campaigns.report.summary_sheet import ReportInfo
from campaigns.report.writer import write_report
from campaigns.store.rows import CampaignMeta, CampaignState, NewRow, RowStatus, RowStore
from dialer.voxpria.models import Call, CallStatus

CID = "camp-r"
NOW = 1_800_000_000.0
HEADERS = ["name", "phone", "note"]
INFO = ReportInfo(CID, "agent_1", "list.csv", "finished", None, None)


def _rows() -> list[NewRow]:
    notes = ["=1+2", "+1 (212) 555-0100", "-12.5", "@SUM(A1)", "plain, with comma", ""]
    rows = [
        NewRow(i, [f"Name {i}", f"+1415555{i:04d}", note], f"+1415555{i:04d}", RowStatus.PENDING)
        for i, note in enumerate(notes)
    ]
    rows.append(NewRow(len(rows), ["Short"], "", RowStatus.INVALID, error="too short"))
    rows.append(NewRow(len(rows), ["Dup", "+14155550000", ""], "", RowStatus.DUPLICATE, error="x"))
    return rows


def _campaign(store: RowStore, state: CampaignState) -> None:
    meta = CampaignMeta(CID, "agent_1", "list.csv", HEADERS, {}, started_at=NOW)
    assert store.create_campaign(meta, _rows())
    claimed = store.claim(CID, "w1", NOW, 30, limit=3)
    for row in claimed:  # three rows dialing, then one active, one finished with API formulas
        assert store.begin_dial(CID, row.idx, "w1", NOW, 30, max_active=10)
    first, second = claimed[0].idx, claimed[1].idx
    assert store.call_created(CID, first, Call("call_1", CallStatus.QUEUED), NOW + 1)
    assert store.call_created(CID, second, Call("call_2", CallStatus.QUEUED), NOW + 1)
    assert store.set_polled(CID, second, "ringing", NOW + 2)
    final = Call(
        "call_1",
        CallStatus.COMPLETED,
        duration_s=61,
        outcome="=HYPERLINK(1)",
        transcript="-2+3+cmd|' /C calc'!A0",
        started_at="2025-02-09T12:00:00Z",
        completed_at="2025-02-09T12:01:01Z",
    )
    assert store.finish(CID, first, RowStatus.COMPLETED, final)
    store.update_campaign(CID, state=state, reason="" if state != CampaignState.FAILED else "key")


@pytest.mark.parametrize("raw", [False, True], ids=["safe", "raw"])
@pytest.mark.parametrize("state", list(CampaignState), ids=str)
def test_the_csv_read_as_tuples_is_the_report_of_its_rows(
    store: RowStore, tmp_path: Path, state: CampaignState, raw: bool
) -> None:
    _campaign(store, state)
    stored = StoredReport(store, CID, state, "the reason")
    direct, by_rows = tmp_path / "direct.csv", tmp_path / "rows.csv"
    counts = write_report(direct, HEADERS, stored, INFO, csv_raw=raw)
    assert counts == write_report(by_rows, HEADERS, list(stored), INFO, csv_raw=raw)
    assert direct.read_bytes() == by_rows.read_bytes()
    assert counts["completed"] == 1 and sum(counts.values()) == len(_rows())


def test_a_batch_is_made_safe_cell_by_cell() -> None:
    cells = [
        "+12125550100",
        "-5",
        "+",
        "-",
        "+²",
        "+٣٤",
        "=1",
        "＝1",
        "@A",
        "\t=1",
        "a",
        "",
        "+1 (2)",
    ]
    records = [[cell, "x"] for cell in cells] + [["ok"], [], ["+1", "=2", "-3"]]
    expected = [[safe_cell(cell) for cell in record] for record in records]
    assert safe_records(records) == expected
    plain = [["a", "+12125550100"], ["-1.5", "b"]]
    assert safe_records(plain) is plain  # nothing to change: no copy


def test_counting_a_batch_is_counting_row_by_row() -> None:
    statuses = ["completed", "completed", "busy", "completed", "ringing", "completed"]
    durations = ["61", "", "5", "n/a", "", " 2.5 "]
    one_by_one, at_once = SummaryCounter(), SummaryCounter()
    for status, duration in zip(statuses, durations, strict=True):
        one_by_one.add(status, duration)
    at_once.add_batch(statuses, iter(durations))
    assert at_once == one_by_one
