"""The contact history and its recall guard: one contract for both stores (SQLite and Redis)."""

from __future__ import annotations

import pytest

from campaigns.store.history import DialGuard, age_text, recall_error, summarize_recent
from campaigns.store.rows import CampaignMeta, NewRow, RowStatus, RowStore
from dialer.voxpria.models import Call, CallStatus
from tests.redis_support import (
    STORE_KINDS,
    MakeStore,
    redis_or_skip,
    store_params,
)

NOW = 1_800_000_000.0
HOUR = 3600.0
NUMBERS = ["+14155550001", "+14155550002", "+14155550003"]


def _guard(group: str, recall_after_s: float = 20 * HOUR) -> DialGuard:
    return DialGuard(recall_after_s, group, "agent_1")


@pytest.fixture(params=store_params(*STORE_KINDS))
def store(request: pytest.FixtureRequest, make_store: MakeStore) -> RowStore:
    return make_store(request.param, account="acct1")


def _campaign(store: RowStore, cid: str, numbers: list[str] = NUMBERS) -> str:
    rows = [
        NewRow(idx=i, cells=[n], to_number=n, status=RowStatus.PENDING)
        for i, n in enumerate(numbers)
    ]
    assert store.create_campaign(CampaignMeta(cid, "agent_1", "l.csv", ["phone"], {}), rows)
    return cid


def _dial(store: RowStore, cid: str, at: float, guard: DialGuard, owner: str = "w1") -> list:
    rows = store.claim(cid, owner, at, 30, limit=10)
    return [store.begin_dial(cid, r.idx, owner, at, 30, 100, guard) for r in rows]


def test_a_number_called_by_another_campaign_is_suppressed_with_who_and_when(
    store: RowStore,
) -> None:
    _campaign(store, "contacts-ab12")
    first = _dial(store, "contacts-ab12", NOW, _guard("contacts-ab12"))
    assert all(r is not None and r.status is RowStatus.DIALING for r in first)
    _campaign(store, "contacts-copy")
    later = _dial(store, "contacts-copy", NOW + 14 * 60 + 5, _guard("contacts-copy"))
    assert [r.status for r in later] == [RowStatus.SUPPRESSED] * 3
    assert later[0].error == "called 14 min ago by campaign contacts-ab12"
    assert store.in_flight("contacts-copy") == 0
    assert store.counts("contacts-copy")[RowStatus.SUPPRESSED] == 3
    assert store.claim("contacts-copy", "w2", NOW + 10 * HOUR, 30, limit=10) == []


def test_the_guard_looks_only_as_far_back_as_told_and_0_turns_it_off(store: RowStore) -> None:
    _campaign(store, "a")
    _dial(store, "a", NOW, _guard("a"))
    _campaign(store, "b")
    assert all(r.status is RowStatus.DIALING for r in _dial(store, "b", NOW + 60, _guard("b", 0)))
    _campaign(store, "c")
    late = _dial(store, "c", NOW + 21 * HOUR, _guard("c"))
    # "b" called them 21 h minus a minute ago: still past the 20 h guard
    assert all(r.status is RowStatus.DIALING for r in late)


def test_the_same_group_never_blocks_itself(store: RowStore) -> None:
    _campaign(store, "daily-2026-12-01")
    _dial(store, "daily-2026-12-01", NOW, _guard("file:daily.toml"))
    _campaign(store, "daily-2026-12-02")
    again = _dial(store, "daily-2026-12-02", NOW + HOUR, _guard("file:daily.toml"))
    assert all(r.status is RowStatus.DIALING for r in again)


def test_a_call_never_created_does_not_count(store: RowStore) -> None:
    _campaign(store, "a", NUMBERS[:1])
    (row,) = _dial(store, "a", NOW, _guard("a"))
    assert store.dial_not_sent("a", row.idx, NOW, "connection refused")
    assert [e.status for e in store.history(NUMBERS[0])] == ["not_created"]
    _campaign(store, "b", NUMBERS[:1])
    (other,) = _dial(store, "b", NOW + 5, _guard("b"))
    assert other.status is RowStatus.DIALING


def test_the_history_follows_each_call_to_its_end(store: RowStore) -> None:
    _campaign(store, "a", NUMBERS[:1])
    (row,) = _dial(store, "a", NOW, _guard("a"))
    store.call_created("a", row.idx, Call("call_7", CallStatus.QUEUED), NOW + 1)
    (entry,) = store.history(NUMBERS[0])
    assert (entry.status, entry.call_id, entry.campaign, entry.agent_id) == (
        "active",
        "call_7",
        "a",
        "agent_1",
    )
    assert entry.at == pytest.approx(NOW)
    store.finish("a", row.idx, RowStatus.BUSY, Call("call_7", CallStatus.BUSY), redial_at=NOW + 60)
    (again,) = _dial(store, "a", NOW + 61, _guard("a"))
    assert again.status is RowStatus.DIALING  # its own redial
    store.finish("a", row.idx, RowStatus.UNKNOWN, error="lost")
    assert [e.status for e in store.history(NUMBERS[0])] == ["busy", "unknown"]


def test_recall_check_suppresses_before_a_slot_is_spent(store: RowStore) -> None:
    _campaign(store, "a", NUMBERS[:2])
    _dial(store, "a", NOW, _guard("a"))
    _campaign(store, "b", NUMBERS[1:])
    (leased, fresh) = store.claim("b", "w1", NOW + 100, 30, limit=10)
    guard = _guard("b")
    assert store.recall_check("b", leased.idx, "w9", NOW + 100, guard) is None  # not its lease
    hit = store.recall_check("b", leased.idx, "w1", NOW + 100, guard)
    assert hit is not None and hit.status is RowStatus.SUPPRESSED
    assert hit.error == "called 1 min ago by campaign a"
    assert store.recall_check("b", fresh.idx, "w1", NOW + 100, guard) is None


def test_recent_calls_summarise_a_list_for_the_plan(store: RowStore) -> None:
    _campaign(store, "a", NUMBERS[:2])
    _dial(store, "a", NOW, _guard("a"))
    summary = summarize_recent(NUMBERS, store, NOW + HOUR, 20 * HOUR)
    assert summary.numbers == 2 and dict(summary.by_campaign or {}) == {"a": 2}
    assert "2 numbers were called in the last 20 h, by campaign a (2)" in summary.text()
    assert summarize_recent(NUMBERS, store, NOW + 21 * HOUR, 20 * HOUR).numbers == 0


def test_a_row_in_doubt_is_held_for_its_next_look(store: RowStore) -> None:
    _campaign(store, "a", NUMBERS[:1])
    (row,) = _dial(store, "a", NOW, _guard("a"))
    assert not store.hold_dialing("a", row.idx, "w2", NOW + 90)
    assert store.hold_dialing("a", row.idx, "w1", NOW + 90)
    assert store.expired_dialing("a", NOW + 60) == []
    assert [r.idx for r in store.expired_dialing("a", NOW + 91)] == [row.idx]


@pytest.mark.parametrize("age_s", [0, 59, 60, 14 * 60 + 59, 7199, 7200, 30 * HOUR])
def test_redis_says_the_age_as_python_does(age_s: float) -> None:
    client = redis_or_skip()
    lua = "local age = tonumber(ARGV[1])\n" + _lua_age() + "\nreturn age_text(age)"
    assert client.eval(lua, 0, age_s) == age_text(age_s)
    assert recall_error(age_s, "x").startswith(f"called {age_text(age_s)} ago")


def _lua_age() -> str:
    from campaigns.store import redis_scripts

    common = redis_scripts._LUA_COMMON
    start = common.index("local function age_text")
    return common[start : common.index("end\n", common.index("return string.format('%d h'")) + 4]


def test_a_number_on_the_do_not_call_list_is_never_dialled(store: RowStore) -> None:
    from campaigns.store.dnc import DncEntry

    _campaign(store, "a")
    entry = DncEntry(NUMBERS[1], "opted out", NOW - 3600)
    assert store.dnc_add([entry]) == 1
    assert store.dnc_add([DncEntry(NUMBERS[1], "again", NOW)]) == 0  # the first one stays
    assert store.dnc_get(NUMBERS[1]) == entry and store.dnc_get(NUMBERS[0]) is None
    guard = _guard("a", 0)  # the recall guard off: the list still applies
    rows = store.claim("a", "w1", NOW, 30, limit=10)
    listed = next(r for r in rows if r.to_number == NUMBERS[1])
    hit = store.recall_check("a", listed.idx, "w1", NOW, guard)
    assert hit is not None and hit.status is RowStatus.SUPPRESSED
    assert hit.error == "on the do-not-call list since 2027-01-15 07:00 UTC (opted out)"
    others = [store.begin_dial("a", r.idx, "w1", NOW, 30, 100, guard) for r in rows if r != listed]
    assert all(r is not None and r.status is RowStatus.DIALING for r in others)
    # added between the claim and the dial: begin_dial itself refuses it
    _campaign(store, "b", NUMBERS[2:])
    (late,) = store.claim("b", "w1", NOW, 30, limit=10)
    store.dnc_add([DncEntry(NUMBERS[2], "", NOW)])
    refused = store.begin_dial("b", late.idx, "w1", NOW, 30, 100, guard)
    assert refused is not None and refused.status is RowStatus.SUPPRESSED
    assert refused.error == "on the do-not-call list since 2027-01-15 08:00 UTC"
    assert store.dnc_remove([NUMBERS[1], NUMBERS[2], "+10000000000"]) == 2
    assert store.dnc_entries() == []


def test_a_frequency_cap_counts_every_campaign_and_waits_or_suppresses(store: RowStore) -> None:
    from campaigns.store.history import CallCap

    cap = CallCap.parse("2/7d")
    one = NUMBERS[:1]
    for n, cid in enumerate(("a", "b")):  # two calls, by two campaigns, a day apart
        _campaign(store, cid, one)
        (row,) = _dial(store, cid, NOW + n * 86400, DialGuard(0, cid, "agent_1", cap))
        assert row.status is RowStatus.DIALING
    _campaign(store, "c", one)
    (capped,) = _dial(store, "c", NOW + 2 * 86400, DialGuard(0, "c", "agent_1", cap))
    assert capped.status is RowStatus.SUPPRESSED
    assert capped.error == "already called 2 times within 7d (--max-calls 2/7d)"
    # a cap that frees within minutes: the row waits (pending) until then
    short = CallCap.parse("2/3d")
    _campaign(store, "d", one)
    at = NOW + 3 * 86400 - 60  # the first call leaves the 3-day window in a minute
    (waiting,) = _dial(store, "d", at, DialGuard(0, "d", "agent_1", short))
    assert waiting.status is RowStatus.PENDING
    assert waiting.not_before == pytest.approx(NOW + 3 * 86400, abs=0.01)
    assert store.claim("d", "w1", at + 30, 30, limit=10) == []
    (later,) = _dial(store, "d", NOW + 3 * 86400 + 1, DialGuard(0, "d", "agent_1", short))
    assert later.status is RowStatus.DIALING
