"""Building an engine for tests: a store, the in-process limiter, and a client of a simulator
served over real HTTP."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from campaigns.dialing.engine import Engine
from campaigns.dialing.policy import DialPolicy, PollPolicy
from campaigns.dialing.runner import RunEnd, Runner, StopSignal
from campaigns.dialing.windows import CallingWindow
from campaigns.store.rows import CampaignMeta, NewRow, RowStatus, RowStore
from dialer.limiter import LocalLimiter
from dialer.settings import Rate, Secret
from dialer.simulator.server import SimulatorHandle
from dialer.voxpria.client import Timeouts, VoxpriaClient

CID = "camp"
NO_CALL_LIMIT = Rate(1000, 1)
NO_REQUEST_LIMIT = Rate(10000, 1)
SHORT_TIMEOUTS = Timeouts(connect_s=2, read_s=1, write_s=2, pool_s=2)


class OffsetClock:
    """Real time shifted by `offset_s`: a restarted process that finds every lease expired."""

    def __init__(self, offset_s: float = 0.0) -> None:
        self.offset_s = offset_s

    def now(self) -> float:
        return time.time() + self.offset_s

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


def numbers(n: int, start: int = 0) -> list[str]:
    return [f"+1415555{i:04d}" for i in range(start, start + n)]


def new_rows(
    nums: Iterable[str], zones: tuple[str, ...] = ("America/Los_Angeles",)
) -> list[NewRow]:
    return [
        NewRow(idx=i, cells=[f"Person {i}", n], to_number=n, status=RowStatus.PENDING, zones=zones)
        for i, n in enumerate(nums)
    ]


def create(store: RowStore, rows: list[NewRow], policy: DialPolicy) -> None:
    meta = CampaignMeta(
        CID, policy.agent_id, "list.csv", ["name", "phone"], {"policy": policy.to_json()}
    )
    assert store.create_campaign(meta, rows)


def fast_policy(speed: float, **overrides: object) -> DialPolicy:
    base = DialPolicy(
        agent_id="agent_demo",
        max_active=20,
        window=CallingWindow.parse("any"),
        poll=PollPolicy(scale=1 / speed),
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def make_engine(
    store: RowStore,
    sim: SimulatorHandle,
    api_key: str,
    policy: DialPolicy,
    *,
    clock: OffsetClock | None = None,
    owner: str = "w1",
    call_limit: Rate = NO_CALL_LIMIT,
    request_limit: Rate = NO_REQUEST_LIMIT,
    timeouts: Timeouts = SHORT_TIMEOUTS,
    wrap_client: Callable[[VoxpriaClient], VoxpriaClient] = lambda c: c,
) -> Engine:
    clock = clock or OffsetClock()
    limiter = LocalLimiter(call_limit, request_limit, clock)
    client = VoxpriaClient(
        sim.base_url,
        Secret(api_key),
        clock=clock,
        timeouts=timeouts,
        before_request=lambda kind: (
            None if kind == "call" else limiter.wait_request(clock) and None
        ),
    )
    return Engine(CID, policy, store, limiter, wrap_client(client), clock, owner)


def run_to_end(engine: Engine, deadline_s: float = 60.0) -> RunEnd:
    stop = StopSignal()
    timer = threading.Timer(deadline_s, stop.request)
    timer.start()
    try:
        end = Runner(engine, engine.clock, sweep_every_s=0.5).run(stop)
    finally:
        timer.cancel()
    assert end is RunEnd.FINISHED, "the run did not finish before its deadline"
    return end


def calls_per_number(sim: SimulatorHandle) -> Counter[str]:
    return Counter(entry.to_number for entry in sim.sim.audit())


def final_statuses(store: RowStore) -> Counter[RowStatus]:
    return Counter(r.status for r in store.iter_rows(CID))


def sqlite_store(tmp_path: Path) -> RowStore:
    from campaigns.store.sqlite_store import SqliteStore

    return SqliteStore(tmp_path / "state.sqlite")
