"""Verification uses the call list only when it is fit for it: a list served oldest first, or
items without `toNumber` or `createdAt`, proves nothing, so a row whose POST answer was lost
stays in doubt (never dialled again as "proven absent") and ends `unknown`. The real engine and
VoxpriaClient over httpx.MockTransport, a FakeClock, the SQLite store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from campaigns.dialing.engine import UNPROVEN, Engine
from campaigns.dialing.runner import RunEnd, Runner, StopSignal
from campaigns.store.rows import RowStatus
from campaigns.store.sqlite_store import SqliteStore
from dialer.clock import FakeClock
from dialer.limiter import LocalLimiter
from dialer.settings import Secret
from dialer.voxpria.client import VoxpriaClient
from tests.engine_support import (
    CID,
    NO_CALL_LIMIT,
    NO_REQUEST_LIMIT,
    create,
    fast_policy,
    new_rows,
    numbers,
)

VERIFY_AFTER_S = 5.0
GIVE_UP_AFTER_S = 3600.0  # fake seconds: a run still going then is stuck
OURS = numbers(1)[0]


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Account:
    """POST /calls answers 500 the first time (nothing created), then creates; GET /calls lists
    the account's calls (two older ones to other numbers first) in `order`, each item missing
    the fields in `missing`; GET /calls/{id} answers the call, ended."""

    clock: FakeClock
    order: str = "newest first"
    missing: tuple[str, ...] = ()
    posts: int = 0
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for i, ago_s in enumerate((3600.0, 3000.0)):
            self._add(f"old{i}", f"+1212555{i:04d}", self.clock.now() - ago_s)

    def _add(self, call_id: str, number: str, at: float) -> dict[str, Any]:
        call = {"callId": call_id, "toNumber": number, "agentId": "agent_demo",
                "createdAt": _iso(at), "status": "completed", "duration": 30}  # fmt: skip
        self.calls.append(call)
        return call

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/v1")
        if request.method == "POST" and path == "/calls":
            self.posts += 1
            if self.posts == 1:
                return httpx.Response(500, json={"success": False, "error": "boom"})
            call = self._add(f"c{self.posts}", OURS, self.clock.now())
            return httpx.Response(201, json={"success": True, "data": call})
        if path == "/calls":
            items = self.calls if self.order == "oldest first" else self.calls[::-1]
            items = [{k: v for k, v in c.items() if k not in self.missing} for c in items]
            page = {"page": 1, "per_page": 100, "total": len(items)}
            return httpx.Response(200, json={"success": True, "data": items, "pagination": page})
        if path.startswith("/calls/"):
            found = [c for c in self.calls if c["callId"] == path.rsplit("/", 1)[1]]
            return httpx.Response(200, json={"success": True, "data": found[0]})
        return httpx.Response(404, json={"success": False, "error": "not found"})


def _run(account: Account, tmp_path: Path) -> SqliteStore:
    clock = account.clock
    store = SqliteStore(tmp_path / "state.sqlite")
    policy = fast_policy(600.0, verify_after_s=VERIFY_AFTER_S)
    create(store, new_rows([OURS]), policy)
    client = VoxpriaClient(
        "http://api.test/api/v1",
        Secret("k"),
        transport=httpx.MockTransport(account.handle),
        clock=clock,
    )
    limiter = LocalLimiter(NO_CALL_LIMIT, NO_REQUEST_LIMIT, clock)
    engine = Engine(CID, policy, store, limiter, client, clock, "w1")
    stop, started = StopSignal(), clock.now()

    def watched_sleep(seconds: float) -> None:
        FakeClock.sleep(clock, seconds)
        if clock.now() - started > GIVE_UP_AFTER_S:
            stop.request()

    clock.sleep = watched_sleep  # type: ignore[method-assign]
    assert Runner(engine, clock, sweep_every_s=0.5).run(stop) is RunEnd.FINISHED
    assert not stop.requested, "the run did not end"
    return store


UNFIT = {
    "oldest first": {"order": "oldest first"},
    "no toNumber": {"missing": ("toNumber",)},
    "no createdAt": {"missing": ("createdAt",)},
}


@pytest.mark.parametrize("unfit", list(UNFIT))
def test_an_unfit_call_list_proves_nothing_the_row_ends_unknown(unfit: str, tmp_path: Path) -> None:
    account = Account(FakeClock(), **UNFIT[unfit])  # type: ignore[arg-type]
    store = _run(account, tmp_path)
    row = store.get_row(CID, 0)
    assert row is not None
    assert account.posts == 1, f"{unfit}: dialled again on a list that cannot prove absence"
    assert (row.status, row.error) == (RowStatus.UNKNOWN, UNPROVEN)


def test_the_same_list_fit_for_it_proves_the_call_absent_and_the_row_is_dialled_again(
    tmp_path: Path,
) -> None:
    """The control: newest first with every field, the same lost answer is proven absent."""
    account = Account(FakeClock())
    store = _run(account, tmp_path)
    row = store.get_row(CID, 0)
    assert row is not None
    assert account.posts == 2
    assert row.status is RowStatus.COMPLETED and row.attempts == 1 and row.call_id == "c2"
