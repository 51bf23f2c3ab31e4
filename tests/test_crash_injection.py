"""A crash between any two steps of the dial path loses no row and phones nobody twice.

The first engine dies (an exception nothing catches) right before or after one step; a second
engine, a "restarted process" whose clock finds every lease of the first expired, runs the
campaign to its end. The simulator's audit counts the calls per number.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from campaigns.dialing.runner import Runner, StopSignal
from campaigns.store.rows import RowStatus, RowStore
from dialer.simulator.api import Fault
from dialer.simulator.server import SimulatorHandle
from dialer.voxpria.client import VoxpriaClient
from tests.engine_support import (
    OffsetClock,
    calls_per_number,
    create,
    fast_policy,
    final_statuses,
    make_engine,
    new_rows,
    numbers,
    run_to_end,
)
from tests.redis_support import store_params

SPEED = 600.0
API_FINAL = {RowStatus.COMPLETED, RowStatus.FAILED, RowStatus.NO_ANSWER, RowStatus.BUSY}


class Crash(BaseException):
    """The process dies here: nothing in the engine may catch it."""


class CrashOnce:
    """Proxies `target`; the first call of `method` crashes before or after it runs."""

    def __init__(self, target: Any, method: str, when: str) -> None:
        self._target, self._method, self._when = target, method, when
        self.crashed = False

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if name != self._method or self.crashed:
            return attr

        def crashing(*args: Any, **kwargs: Any) -> Any:
            self.crashed = True
            if self._when == "before":
                raise Crash(f"before {name}")
            attr(*args, **kwargs)
            raise Crash(f"after {name}")

        return crashing


# (which part, method, before/after): every boundary of claim -> intent -> POST -> record ->
# poll -> final.
CRASH_POINTS = [
    ("store", "claim", "after"),
    ("store", "begin_dial", "after"),
    ("client", "create_call", "before"),
    ("client", "create_call", "after"),
    ("store", "call_created", "after"),
    ("store", "set_polled", "after"),
    ("store", "finish", "before"),
    ("store", "finish", "after"),
]
# Every step of verifying a row in doubt (its POST answered 500 before creating a call).
VERIFY_CRASH_POINTS = [
    ("client", "list_calls", "before"),
    ("store", "hold_dialing", "after"),
    ("store", "take_over", "after"),
    ("store", "dial_not_sent", "before"),
    ("store", "dial_not_sent", "after"),
]


@pytest.fixture(params=store_params("sqlite", "redis"))
def store(request: pytest.FixtureRequest, make_store: Callable[[str], RowStore]) -> RowStore:
    return make_store(request.param)


@pytest.mark.parametrize(
    ("part", "method", "when", "fault"),
    [(*p, None) for p in CRASH_POINTS]
    + [(*p, Fault.ERROR_BEFORE_CREATE) for p in VERIFY_CRASH_POINTS],
)
def test_crash_then_restart(
    store: RowStore,
    simulator: SimulatorHandle,
    api_key: str,
    part: str,
    method: str,
    when: str,
    fault: Fault | None,
) -> None:
    policy = fast_policy(SPEED, lease_s=5.0, max_active=4, verify_after_s=2.0)
    nums = numbers(8)
    create(store, new_rows(nums), policy)
    if fault is not None:
        simulator.sim.force(fault, times=1)

    crash_store = CrashOnce(store, method, when) if part == "store" else None
    wrap: Callable[[VoxpriaClient], VoxpriaClient] = lambda c: c  # noqa: E731
    crash_client: CrashOnce | None = None
    if part == "client":

        def wrap(c: VoxpriaClient) -> VoxpriaClient:
            nonlocal crash_client
            crash_client = CrashOnce(c, method, when)
            return crash_client  # type: ignore[return-value]

    first = make_engine(
        crash_store or store, simulator, api_key, policy, owner="first", wrap_client=wrap
    )  # type: ignore[arg-type]
    with pytest.raises(Crash):
        Runner(first, first.clock, sweep_every_s=0.2).run(StopSignal())

    restarted = make_engine(
        store, simulator, api_key, policy, owner="second", clock=OffsetClock(policy.lease_s + 1)
    )
    run_to_end(restarted, deadline_s=30)

    # A crash after the intent and before the POST leaves a row in doubt: the call list proves
    # no call was made, and it is dialled then. Everyone is called exactly once.
    per_number = calls_per_number(simulator)
    assert per_number == {n: 1 for n in nums}, f"not everyone was called once: {per_number}"
    statuses = final_statuses(store)
    assert sum(statuses.values()) == len(nums)
    assert set(statuses) <= API_FINAL
