"""What each webhook event does to the store (campaigns.dialing.events, no HTTP), on both stores
(conftest's `store`: SQLite, and Redis on fakeredis and on a real server)."""

from __future__ import annotations

from typing import Any

import pytest

from campaigns.dialing.events import Applied, MalformedEvent, apply_event, final_call, parse_event
from campaigns.store.rows import Row, RowStatus, RowStore
from dialer.voxpria.models import Call, CallStatus
from tests.engine_support import CID
from tests.test_webhooks_support import NOW, POLL_LATER, call_event, live_calls


def apply(store: RowStore, body: dict[str, Any]) -> Applied:
    return apply_event(store, parse_event(body), NOW)


def row(store: RowStore, idx: int) -> Row:
    found = store.get_row(CID, idx)
    assert found is not None
    return found


# --- reading events ---


@pytest.mark.parametrize("style", ["callId", "id"])
def test_both_payload_variants_read_alike(style: str) -> None:
    body = call_event("call.completed", "call_7", style, status="completed", transcript="Hi")
    event = parse_event(body)
    assert event.call is not None
    assert (event.call.call_id, event.call.to_number, event.call.transcript) == (
        "call_7",
        "+14155550000",
        "Hi",
    )


def test_a_call_nested_under_data_call_is_read() -> None:
    event = parse_event({"event": "call.failed", "data": {"call": {"id": "call_9"}}})
    assert event.call is not None and event.call.call_id == "call_9"


@pytest.mark.parametrize(
    "body",
    [
        [],
        "call.completed",
        {"data": {"callId": "call_1"}},
        {"event": "", "data": {}},
        {"event": "call.completed", "data": "call_1"},
        {"event": "call.completed", "data": {"status": "completed"}},  # no call id
    ],
)
def test_what_is_not_an_event_is_malformed(body: Any) -> None:
    with pytest.raises(MalformedEvent):
        parse_event(body)


@pytest.mark.parametrize(
    ("name", "status", "final"),
    [
        ("call.completed", None, CallStatus.COMPLETED),
        ("call.failed", None, CallStatus.FAILED),
        ("call.ended", "no_answer", CallStatus.NO_ANSWER),
        ("call.ended", "busy", CallStatus.BUSY),
        ("call.completed", "no-answer", CallStatus.NO_ANSWER),  # data.status wins over the name
        ("call.ended", None, None),  # ended, but how is not said
        ("call.ended", "hung_up", None),  # a status nobody documented
        ("call.completed", "in_progress", None),  # contradicts itself: ask the API
        ("call.started", None, None),
        ("call.answered", "in_progress", None),
    ],
)
def test_which_events_say_a_final_status(
    name: str, status: str | None, final: CallStatus | None
) -> None:
    extra = {} if status is None else {"status": status}
    decided = final_call(parse_event(call_event(name, "call_1", **extra)))
    assert (decided.status if decided else None) is final


# --- applying them ---


@pytest.mark.parametrize("style", ["callId", "id"])
def test_a_final_event_finishes_the_row_with_the_call_s_fields(store: RowStore, style: str) -> None:
    call_ids = live_calls(store)
    body = call_event(
        "call.completed", call_ids[1], style, duration=42, transcript="Thanks", outcome="successful"
    )
    assert apply(store, body) is Applied.FINAL
    done = row(store, 1)
    assert (done.status, done.duration, done.transcript, done.outcome) == (
        RowStatus.COMPLETED,
        "42",
        "Thanks",
        "successful",
    )
    assert row(store, 0).status is RowStatus.ACTIVE


def test_a_duplicate_changes_nothing(store: RowStore) -> None:
    call_ids = live_calls(store)
    assert apply(store, call_event("call.ended", call_ids[0], status="busy")) is Applied.FINAL
    before = row(store, 0)
    again = call_event("call.ended", call_ids[0], status="no_answer")  # same (callId, event)
    assert apply(store, again) is Applied.DUPLICATE
    assert row(store, 0) == before


def test_an_ending_without_a_status_makes_the_call_due_for_a_poll_now(store: RowStore) -> None:
    call_ids = live_calls(store)
    assert row(store, 2).next_poll_at == POLL_LATER
    assert apply(store, call_event("call.ended", call_ids[2])) is Applied.POLL_NOW
    polled = row(store, 2)
    assert polled.status is RowStatus.ACTIVE and polled.next_poll_at == NOW
    assert [d.idx for d in store.due_calls(CID, NOW, limit=10)] == [2]


def test_a_non_final_event_only_counts_for_dedup(store: RowStore) -> None:
    call_ids = live_calls(store)
    before = row(store, 0)
    assert apply(store, call_event("call.answered", call_ids[0])) is Applied.NOTED
    assert row(store, 0) == before
    assert apply(store, call_event("call.answered", call_ids[0])) is Applied.DUPLICATE


def test_an_unknown_call_is_dropped_and_not_remembered(store: RowStore) -> None:
    live_calls(store)
    body = call_event("call.completed", "call_not_ours")
    assert apply(store, body) is Applied.UNKNOWN_CALL
    # not marked as seen: were it ours after all (its creation not yet recorded), a retry counts
    assert store.first_event("call_not_ours", "call.completed")


def test_after_the_poller_recorded_it_the_event_changes_nothing(store: RowStore) -> None:
    call_ids = live_calls(store)
    store.finish(CID, 0, RowStatus.NO_ANSWER)
    before = row(store, 0)
    body = call_event("call.completed", call_ids[0])
    assert apply(store, body) is Applied.ALREADY_FINAL
    assert row(store, 0) == before


def test_a_final_status_worth_a_redial_schedules_it(store: RowStore) -> None:
    call_ids = live_calls(store, redial={"busy": 1})
    assert apply(store, call_event("call.ended", call_ids[0], status="busy")) is Applied.FINAL
    redialled = row(store, 0)
    assert redialled.status is RowStatus.PENDING and redialled.not_before == NOW + 60.0


def test_a_late_event_of_an_earlier_attempt_never_ends_the_next_one(store: RowStore) -> None:
    call_ids = live_calls(store, n=1, redial={"busy": 1})
    assert apply(store, call_event("call.ended", call_ids[0], status="busy")) is Applied.FINAL
    # the redial is dialing (the old callId still on the row) when the old call's
    # call.failed comes in, then active on a new call when a call.completed of the old one does
    claimed = store.claim(CID, "w1", NOW + 61, 30.0, limit=1)
    assert claimed and store.begin_dial(CID, 0, "w1", NOW + 61, 30.0, max_active=1)
    assert apply(store, call_event("call.failed", call_ids[0])) is Applied.ALREADY_FINAL
    assert row(store, 0).status is RowStatus.DIALING
    assert store.call_created(CID, 0, Call("call_new", CallStatus.QUEUED), NOW + 300)
    assert apply(store, call_event("call.completed", call_ids[0])) is Applied.UNKNOWN_CALL
    assert row(store, 0).status is RowStatus.ACTIVE and row(store, 0).call_id == "call_new"


@pytest.mark.parametrize("name", ["campaign.completed", "campaign.started", "credit.low"])
def test_account_events_are_accepted_and_change_nothing(store: RowStore, name: str) -> None:
    live_calls(store)
    before = list(store.iter_rows(CID))
    assert apply(store, {"event": name, "data": {"balance": 3}}) is Applied.NOT_A_CALL
    assert list(store.iter_rows(CID)) == before
