"""The attempt log read from the contact history: each outcome in words, in both stores."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from campaigns.report.attempts import ATTEMPT_COLUMNS, attempt_lines, write_attempts
from campaigns.report.workbook import write_text_table
from campaigns.store.history import DialGuard
from campaigns.store.rows import CampaignMeta, NewRow, RowStatus, RowStore
from dialer.voxpria.models import Call, CallStatus
from tests.redis_support import (
    STORE_KINDS,
    MakeStore,
    store_params,
)

NOW = 1_800_000_000.0  # 2027-01-15T08:00:00Z
NUMBERS = ["+14155550001", "+442079460001", "+14155550003", "+14155550004"]
ZONES = [("America/Los_Angeles",), ("Europe/London",), ("America/Los_Angeles",), ()]


@pytest.fixture(params=store_params(*STORE_KINDS))
def store(request: pytest.FixtureRequest, make_store: MakeStore) -> RowStore:
    return make_store(request.param, account="acct1")


def _campaign(store: RowStore) -> CampaignMeta:
    rows = [
        NewRow(idx=i, cells=[n], to_number=n, status=RowStatus.PENDING, zones=z)
        for i, (n, z) in enumerate(zip(NUMBERS, ZONES, strict=True))
    ]
    meta = CampaignMeta("c1", "agent_1", "l.csv", ["phone"], {"policy": {"window": "09:00-20:00"}})
    assert store.create_campaign(meta, rows)
    return meta


def test_each_attempt_is_one_line_with_its_outcome(store: RowStore, tmp_path: Path) -> None:
    meta = _campaign(store)
    guard = DialGuard(0, "c1", "agent_1")
    for r in store.claim("c1", "w1", NOW, 30, limit=10):
        assert store.begin_dial("c1", r.idx, "w1", NOW, 30, 100, guard) is not None
    assert store.call_created("c1", 0, Call("call_1", CallStatus.QUEUED), NOW + 1)
    assert store.finish("c1", 0, RowStatus.BUSY, Call("call_1", CallStatus.BUSY), redial_at=NOW)
    assert store.dial_not_sent("c1", 1, NOW + 5, "429: too many requests")
    assert store.finish("c1", 2, RowStatus.REJECTED, error="400: toNumber is not allowed")
    # row 0 redialled, row 1 sent again: both created this time
    later = NOW + 3600
    for r in store.claim("c1", "w1", later, 30, limit=10):
        assert store.begin_dial("c1", r.idx, "w1", later, 30, 100, guard) is not None
    assert store.call_created("c1", 0, Call("call_2", CallStatus.QUEUED), later + 1)
    assert store.call_created("c1", 1, Call("call_3", CallStatus.QUEUED), later + 1)

    lines = [dict(zip(ATTEMPT_COLUMNS, line, strict=True)) for line in attempt_lines(store, meta)]
    got = [(x["row"], x["outcome"], x["call_id"]) for x in lines]
    assert got == [
        ("1", "created", "call_1"),
        ("1", "created", "call_2"),
        ("2", "not created", ""),
        ("2", "created", "call_3"),
        ("3", "rejected", ""),
        ("4", "in doubt", ""),
    ]
    assert lines[0]["attempted_at_utc"] == "2027-01-15T08:00:00Z"
    assert lines[0]["local_time"] == "2027-01-15T00:00:00-08:00"
    assert lines[2]["local_time"] == "2027-01-15T08:00:00+00:00"
    assert lines[4]["message"] == "400: toNumber is not allowed"
    assert {x["window"] for x in lines} == {"09:00-20:00"}
    assert lines[5]["zones"] == "" and lines[5]["local_time"] == ""

    out = tmp_path / "log.csv"
    assert write_attempts(out, attempt_lines(store, meta)) == 6
    assert len(out.read_text(encoding="utf-8-sig").splitlines()) == 7


def test_another_campaigns_calls_to_the_same_numbers_are_not_in_the_log(store: RowStore) -> None:
    meta = _campaign(store)
    other = CampaignMeta("c2", "agent_1", "l.csv", ["phone"], {})
    assert store.create_campaign(
        other, [NewRow(0, [NUMBERS[0]], NUMBERS[0], RowStatus.PENDING, zones=ZONES[0])]
    )
    for cid, at in (("c2", NOW), ("c1", NOW + 60)):
        for r in store.claim(cid, "w1", at, 30, limit=1):
            assert store.begin_dial(cid, r.idx, "w1", at, 30, 100, DialGuard(0, cid, "a"))
    assert [e.campaign for e in store.campaign_history([NUMBERS[0]], "c1")] == ["c1"]
    assert [e.campaign for e in store.campaign_history(NUMBERS, "c2")] == ["c2"]
    lines = list(attempt_lines(store, meta, batch=1))
    assert [line[2] for line in lines] == [NUMBERS[0]]
    assert lines[0][0] == "2027-01-15T08:01:00Z"
    assert [line[5] for line in attempt_lines(store, other)] == ["08:00-21:00"]  # the default


def test_a_log_longer_than_a_sheet_says_so_in_its_last_line(tmp_path: Path) -> None:
    out = tmp_path / "log.xlsx"
    lines = [[f"line {n}"] for n in range(10)]
    assert write_text_table(out, "Attempts", ["what"], lines, max_rows_per_sheet=4) == 2
    sheet = openpyxl.load_workbook(out)["Attempts"]
    cells = [row[0] for row in sheet.iter_rows(values_only=True)]
    assert cells[:3] == ["what", "line 0", "line 1"]
    assert "write it as .csv" in str(cells[3]) and len(cells) == 4
