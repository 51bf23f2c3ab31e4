"""Helpers of the test_webhooks_* modules (no tests here): stores holding live calls, and
webhook events about them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from campaigns.dialing.policy import DialPolicy
from campaigns.dialing.windows import CallingWindow
from campaigns.store.redis_store import RedisStore
from campaigns.store.rows import CampaignMeta, RowStore
from campaigns.store.sqlite_store import SqliteStore
from dialer.voxpria.models import Call, CallStatus
from tests.engine_support import CID, new_rows, numbers
from tests.redis_support import open_redis_space

NOW = 1_800_000_000.0
POLL_LATER = NOW + 300.0  # when a live call would be polled if no event came


STORES = ["sqlite", "redis"]


@contextmanager
def open_store(kind: str, tmp_path: Path) -> Iterator[RowStore]:
    """A fresh store of `kind` ("sqlite", "fakeredis" or "redis"; see tests.redis_support for
    when real Redis skips). In a fixture, conftest's `make_store` does the same."""
    if kind == "sqlite":
        store = SqliteStore(tmp_path / "state.sqlite")
        yield store
        store.close()
        return
    with open_redis_space(kind, "test-webhooks") as space:
        yield RedisStore(space.client, space.keys)


def live_calls(store: RowStore, n: int = 3, redial: dict[str, int] | None = None) -> list[str]:
    """A campaign of `n` rows, each with a live call `call_<idx>`; returns the call ids."""
    policy = DialPolicy(
        agent_id="agent_demo",
        window=CallingWindow.parse("any"),
        redial=redial or {},
        redial_after_s=60.0,
    )
    meta = CampaignMeta(
        CID, "agent_demo", "list.csv", ["name", "phone"], {"policy": policy.to_json()}
    )
    assert store.create_campaign(meta, new_rows(numbers(n)))
    for row in store.claim(CID, "w1", NOW, 30.0, limit=n):
        assert store.begin_dial(CID, row.idx, "w1", NOW, 30.0, max_active=n)
        call = Call(f"call_{row.idx}", CallStatus.QUEUED, to_number=row.to_number)
        assert store.call_created(CID, row.idx, call, POLL_LATER)
    return [f"call_{i}" for i in range(n)]


def call_event(name: str, call_id: str, style: str = "callId", **data: Any) -> dict[str, Any]:
    """An event as Voxpria sends it, in one of the two payload variants the docs show."""
    keys = {"callId": ("callId", "toNumber", "transcript"), "id": ("id", "phoneNumber", "summary")}
    id_key, number_key, text_key = keys[style]
    fields: dict[str, Any] = {id_key: call_id, number_key: "+14155550000"}
    if "transcript" in data:
        fields[text_key] = data.pop("transcript")
    return {"event": name, "timestamp": "2027-01-15T08:00:00.000Z", "data": fields | data}
