"""One contract for both row stores: the SQLite file (embedded) and Redis (cluster), the latter
on fakeredis (its Lua scripts included) and on a real server (`store` in conftest.py)."""

from __future__ import annotations

import pytest

from campaigns.store.rows import CampaignMeta, CampaignState, NewRow, Row, RowStatus, RowStore
from dialer.voxpria.models import Call, CallStatus

CID = "camp-1"
NOW = 1_800_000_000.0


def _rows(n: int = 5) -> list[NewRow]:
    rows = [
        NewRow(
            idx=i,
            cells=[f"Name {i}", f"+1415555{i:04d}", "00123"],
            to_number=f"+1415555{i:04d}",
            status=RowStatus.PENDING,
            variables={"name": f"Name {i}"},
            zones=("America/Los_Angeles",),
        )
        for i in range(n)
    ]
    rows.append(
        NewRow(
            idx=n,
            cells=["Bad", "12", ""],
            to_number="",
            status=RowStatus.INVALID,
            error="too short",
        )
    )
    return rows


@pytest.fixture
def campaign(store: RowStore) -> RowStore:
    meta = CampaignMeta(CID, "agent_1", "list.csv", ["name", "phone", "id"], {}, created_at=NOW)
    assert store.create_campaign(meta, _rows())
    return store


def test_create_is_once_and_keeps_cells(store: RowStore) -> None:
    meta = CampaignMeta(CID, "agent_1", "list.csv", ["name", "phone", "id"], {}, created_at=NOW)
    assert store.create_campaign(meta, _rows())
    again = CampaignMeta(CID, "agent_2", "other.csv", ["x"], {}, created_at=NOW)
    assert not store.create_campaign(again, _rows(2))
    got = store.get_campaign(CID)
    assert got is not None and got.agent_id == "agent_1" and got.total_rows == 6
    rows = list(store.iter_rows(CID))
    assert [r.idx for r in rows] == list(range(6))
    assert rows[0].cells == ["Name 0", "+14155550000", "00123"]
    assert rows[5].status is RowStatus.INVALID and rows[5].error == "too short"
    assert store.counts(CID) == {RowStatus.PENDING: 5, RowStatus.INVALID: 1}


def test_update_and_list_campaigns(campaign: RowStore) -> None:
    campaign.update_campaign(CID, state=CampaignState.FINISHED, ended_at=NOW + 5)
    meta = campaign.get_campaign(CID)
    assert meta is not None and meta.state is CampaignState.FINISHED and meta.ended_at == NOW + 5
    assert [m.campaign_id for m in campaign.list_campaigns()] == [CID]
    assert campaign.get_campaign("nope") is None


def test_claim_leases_each_row_once(campaign: RowStore) -> None:
    a = campaign.claim(CID, "w1", NOW, 30, limit=3)
    b = campaign.claim(CID, "w2", NOW, 30, limit=10)
    assert len(a) == 3 and len(b) == 2
    assert not {r.idx for r in a} & {r.idx for r in b}
    assert campaign.claim(CID, "w3", NOW + 1, 30, limit=10) == []
    # a lease that runs out makes the row claimable again
    c = campaign.claim(CID, "w3", NOW + 31, 30, limit=10)
    assert sorted(r.idx for r in c) == list(range(5))


def test_release_defers_a_row(campaign: RowStore) -> None:
    (row,) = campaign.claim(CID, "w1", NOW, 30, limit=1)
    assert not campaign.release(CID, row.idx, "someone-else", NOW + 100)
    assert campaign.release(CID, row.idx, "w1", NOW + 100)
    others = campaign.claim(CID, "w2", NOW, 30, limit=10)
    assert row.idx not in {r.idx for r in others}
    assert campaign.next_pending_at(CID) == pytest.approx(NOW + 30, abs=0.01)  # leased ones
    later = campaign.claim(CID, "w2", NOW + 100, 30, limit=10)
    assert row.idx in {r.idx for r in later}


def test_begin_dial_is_the_only_way_in_and_happens_once(campaign: RowStore) -> None:
    (row,) = campaign.claim(CID, "w1", NOW, 30, limit=1)
    assert campaign.begin_dial(CID, row.idx, "w2", NOW, 30, max_active=10) is None
    dialing = campaign.begin_dial(CID, row.idx, "w1", NOW, 30, max_active=10)
    assert dialing is not None and dialing.status is RowStatus.DIALING
    assert dialing.attempts == 1 and dialing.intent_at == NOW
    assert campaign.begin_dial(CID, row.idx, "w1", NOW, 30, max_active=10) is None
    assert campaign.in_flight(CID) == 1


def test_begin_dial_respects_max_active(campaign: RowStore) -> None:
    rows = campaign.claim(CID, "w1", NOW, 30, limit=3)
    started = [campaign.begin_dial(CID, r.idx, "w1", NOW, 30, max_active=2) for r in rows]
    assert sum(r is not None for r in started) == 2


def test_begin_dial_refuses_an_expired_lease(campaign: RowStore) -> None:
    (row,) = campaign.claim(CID, "w1", NOW, 30, limit=1)
    assert campaign.begin_dial(CID, row.idx, "w1", NOW + 31, 30, max_active=10) is None


def _dial(store: RowStore, owner: str = "w1") -> int:
    (row,) = store.claim(CID, owner, NOW, 30, limit=1)
    assert store.begin_dial(CID, row.idx, owner, NOW, 30, max_active=10)
    return row.idx


def test_created_then_polled_then_final(campaign: RowStore) -> None:
    idx = _dial(campaign)
    call = Call("call_1", CallStatus.QUEUED, to_number="+14155550000")
    assert campaign.call_created(CID, idx, call, NOW + 10)
    assert not campaign.call_created(CID, idx, call, NOW + 10)
    assert campaign.due_calls(CID, NOW + 5, 10) == []
    assert campaign.next_poll_at(CID) == pytest.approx(NOW + 10, abs=0.01)
    (due,) = campaign.due_calls(CID, NOW + 10, 10)
    assert (due.idx, due.call_id, due.to_number) == (idx, "call_1", "+14155550000")
    assert campaign.set_polled(CID, idx, "ringing", NOW + 20)
    assert campaign.due_calls(CID, NOW + 15, 10) == []
    assert [c.call_id for c in campaign.active_calls(CID)] == ["call_1"]
    final = Call(
        "call_1",
        CallStatus.COMPLETED,
        duration_s=127,
        outcome="successful",
        recording="https://r",
        transcript="hi",
        started_at="2025-02-09T12:00:00Z",
        completed_at="2025-02-09T12:02:07Z",
    )
    assert campaign.finish(CID, idx, RowStatus.COMPLETED, final)
    assert not campaign.finish(CID, idx, RowStatus.FAILED, final)  # a repeat changes nothing
    row = campaign.get_row(CID, idx)
    assert row is not None and row.status is RowStatus.COMPLETED
    assert (row.call_id, row.duration, row.outcome, row.attempts) == (
        "call_1",
        "127",
        "successful",
        1,
    )
    assert row.completed_at == "2025-02-09T12:02:07Z"
    assert campaign.in_flight(CID) == 0 and campaign.next_poll_at(CID) is None
    assert campaign.counts(CID)[RowStatus.COMPLETED] == 1
    # The report's read gives the same rows as iter_rows in everything the report shows.
    report_rows = list(campaign.iter_report_rows(CID))
    assert [_reported(r) for r in report_rows] == [_reported(r) for r in campaign.iter_rows(CID)]
    assert report_rows[idx].transcript == "hi" and report_rows[idx].status is RowStatus.COMPLETED


def _reported(row: Row) -> tuple[object, ...]:
    """What campaigns/report/writer.py (and campaigns/report/analysis.py) reads of a row."""
    return (
        row.idx,
        row.cells,
        row.to_number,
        row.status,
        row.error,
        row.attempts,
        row.call_id,
        row.live_status,
        row.outcome,
        row.duration,
        row.started_at,
        row.completed_at,
        row.recording,
        row.transcript,
        row.zones,  # and what its Analysis sheet reads
        row.intent_at,
    )


def test_not_sent_goes_back_without_counting_an_attempt(campaign: RowStore) -> None:
    idx = _dial(campaign)
    assert campaign.dial_not_sent(CID, idx, NOW + 5, "connection refused")
    row = campaign.get_row(CID, idx)
    assert row is not None and row.status is RowStatus.PENDING and row.attempts == 0
    assert not campaign.dial_not_sent(CID, idx, NOW + 5, "again")


def test_redial_puts_a_final_row_back_with_its_attempts(campaign: RowStore) -> None:
    idx = _dial(campaign)
    campaign.call_created(CID, idx, Call("call_1", CallStatus.QUEUED), NOW)
    assert campaign.finish(
        CID, idx, RowStatus.BUSY, Call("call_1", CallStatus.BUSY), redial_at=NOW + 60
    )
    row = campaign.get_row(CID, idx)
    assert row is not None and row.status is RowStatus.PENDING and row.live_status == "busy"
    assert row.attempts == 1 and row.call_id == "call_1"
    assert all(r.idx != idx for r in campaign.claim(CID, "w1", NOW + 30, 300, limit=10))
    (again,) = campaign.claim(CID, "w2", NOW + 60, 30, limit=10)
    assert campaign.begin_dial(CID, again.idx, "w2", NOW + 60, 30, max_active=10) is not None
    assert campaign.get_row(CID, idx).attempts == 2  # type: ignore[union-attr]


def test_unknown_and_rejected_are_final(campaign: RowStore) -> None:
    a, b = _dial(campaign), _dial(campaign)
    assert campaign.finish(CID, a, RowStatus.UNKNOWN, error="lost answer")
    assert campaign.finish(CID, b, RowStatus.REJECTED, error="400: bad number")
    counts = campaign.counts(CID)
    assert counts[RowStatus.UNKNOWN] == 1 and counts[RowStatus.REJECTED] == 1
    assert campaign.in_flight(CID) == 0


def test_expired_dialing_is_taken_over_by_one_sweeper(campaign: RowStore) -> None:
    idx = _dial(campaign)
    assert campaign.expired_dialing(CID, NOW + 10) == []
    (stale,) = campaign.expired_dialing(CID, NOW + 31)
    assert stale.idx == idx and stale.status is RowStatus.DIALING
    first = campaign.take_over(CID, idx, "sweeper-1", NOW + 31, 30)
    assert first is not None and first.lease_owner == "sweeper-1"
    assert campaign.take_over(CID, idx, "sweeper-2", NOW + 31, 30) is None
    assert campaign.expired_dialing(CID, NOW + 40) == []


def test_a_call_is_found_by_its_id_and_events_count_once(campaign: RowStore) -> None:
    idx = _dial(campaign)
    assert campaign.find_call("call_9") is None
    campaign.call_created(CID, idx, Call("call_9", CallStatus.QUEUED), NOW)
    assert campaign.find_call("call_9") == (CID, idx)
    assert campaign.first_event("call_9", "call.completed")
    assert not campaign.first_event("call_9", "call.completed")
    assert campaign.first_event("call_9", "call.failed")


def test_a_call_result_lands_only_on_the_row_that_follows_that_call(campaign: RowStore) -> None:
    a, b = _dial(campaign), _dial(campaign)
    late = Call("call_other", CallStatus.COMPLETED)
    assert not campaign.finish(CID, a, RowStatus.COMPLETED, late)  # a row in doubt: no call yet
    campaign.call_created(CID, a, Call("call_a", CallStatus.QUEUED), NOW)
    campaign.call_created(CID, b, Call("call_b", CallStatus.QUEUED), NOW)
    assert not campaign.finish(CID, a, RowStatus.COMPLETED, Call("call_b", CallStatus.COMPLETED))
    assert campaign.finish(CID, a, RowStatus.BUSY, Call("call_a", CallStatus.BUSY), redial_at=NOW)
    assert a in {r.idx for r in campaign.claim(CID, "w1", NOW + 1, 30, limit=10)}
    assert campaign.begin_dial(CID, a, "w1", NOW + 1, 30, max_active=10) is not None
    campaign.call_created(CID, a, Call("call_a2", CallStatus.QUEUED), NOW + 1)
    # the first attempt's late result does not end the second attempt
    assert not campaign.finish(CID, a, RowStatus.COMPLETED, Call("call_a", CallStatus.COMPLETED))
    row = campaign.get_row(CID, a)
    assert row is not None and row.status is RowStatus.ACTIVE and row.call_id == "call_a2"
