"""Verified absence, then dial: under a mix of API faults every valid number is called exactly
once and no row ends `unknown` (the simulator over real HTTP; both stores).

Faults, each on 5% of requests: a 500 before the call is created, the answer lost after it was
created, a read timeout (the answer held back past the client's timeout), and GETs answering
5xx (the call list itself is flaky while it is searched).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from campaigns.dialing.engine import UNPROVEN
from campaigns.store.rows import RowStatus, RowStore
from dialer.settings import Secret
from dialer.simulator.faults import Fault
from dialer.simulator.server import SimulatorHandle, running_simulator
from dialer.voxpria.client import VoxpriaClient
from tests.engine_support import (
    CID,
    SHORT_TIMEOUTS,
    calls_per_number,
    create,
    fast_policy,
    final_statuses,
    make_engine,
    new_rows,
    numbers,
    run_to_end,
)
from tests.redis_support import MakeStore, store_params

SPEED = 600.0
API_FINAL = {RowStatus.COMPLETED, RowStatus.FAILED, RowStatus.NO_ANSWER, RowStatus.BUSY}


@pytest.fixture(params=store_params("sqlite", "redis"))
def store(request: pytest.FixtureRequest, make_store: MakeStore) -> RowStore:
    return make_store(request.param)


@pytest.mark.integration
def test_under_the_fault_mix_everyone_is_called_exactly_once(store: RowStore, api_key: str) -> None:
    policy = fast_policy(SPEED, max_active=30, lease_s=3.0, verify_after_s=3.0)
    nums = numbers(300)
    create(store, new_rows(nums), policy)
    with running_simulator(
        api_key=Secret(api_key),
        speed=SPEED,
        call_limit=None,
        request_limit=None,
        p_5xx_before_create=0.05,
        p_lost_after_create=0.05,
        p_slow_after_create=0.05,
        p_flaky_get=0.05,
        slow_s=1.5,  # past the tests' 1 s read timeout: the answer is lost to the client
        seed=13,
    ) as sim:
        run_to_end(make_engine(store, sim, api_key, policy), deadline_s=240)
        per_number = calls_per_number(sim)
    twice = sum(1 for n in per_number.values() if n > 1)
    statuses = final_statuses(store)
    print(f"called twice: {twice}; unknown: {statuses[RowStatus.UNKNOWN]}; {dict(statuses)}")
    assert twice == 0, f"{twice} numbers were called twice"
    assert per_number == dict.fromkeys(nums, 1), "not every number was called once"
    assert statuses[RowStatus.UNKNOWN] == 0
    assert set(statuses) <= API_FINAL
    redialled = [r for r in store.iter_rows(CID) if r.attempts != 1]
    assert redialled == []  # a dial proven never created is not counted as an attempt


def _one_try_per_look(
    sim: SimulatorHandle, api_key: str
) -> Callable[[VoxpriaClient], VoxpriaClient]:
    """The engine's client, each GET tried once: a look at an unreadable list then fails at
    once (not after seconds of backoff), so the looks until the horizon can be counted."""

    def wrap(client: VoxpriaClient) -> VoxpriaClient:
        client.close()
        return VoxpriaClient(sim.base_url, Secret(api_key), timeouts=SHORT_TIMEOUTS, get_attempts=1)

    return wrap


@pytest.mark.integration
def test_an_answer_lost_while_the_list_stays_unreadable_is_never_posted_again_and_ends_unknown(
    store: RowStore, api_key: str
) -> None:
    policy = fast_policy(SPEED, verify_after_s=3.0)
    nums = numbers(1)
    create(store, new_rows(nums), policy)
    with running_simulator(
        api_key=Secret(api_key), speed=SPEED, call_limit=None, request_limit=None
    ) as sim:
        sim.sim.force(Fault.LOST_AFTER_CREATE, 1)  # created, its answer lost
        # every GET answers 5xx to the end (a look every 0.75 s: ~5 before the horizon); a
        # bounded number, so that a run which dialled again (a regression) can end and be seen
        sim.sim.force(Fault.FLAKY_GET, 30)
        engine = make_engine(
            store, sim, api_key, policy, wrap_client=_one_try_per_look(sim, api_key)
        )
        started = time.monotonic()
        run_to_end(engine, deadline_s=30)
        took_s = time.monotonic() - started
        per_number = calls_per_number(sim)
        looks = sim.sim.stats().get("GET /calls", 0)
    row = store.get_row(CID, 0)
    assert row is not None
    print(f"unknown after {took_s:.1f} s and {looks:g} looks at the unreadable list")
    assert per_number == {nums[0]: 1}  # never POSTed again while in doubt
    assert row.status is RowStatus.UNKNOWN and row.error == UNPROVEN
    assert took_s >= policy.verify_after_s  # it kept looking until the horizon...
    assert 3 <= looks < 30  # ... again and again, and the list never read


@pytest.mark.integration
def test_an_answer_lost_is_resolved_when_the_list_reads_again_before_the_horizon(
    store: RowStore, api_key: str
) -> None:
    policy = fast_policy(SPEED, verify_after_s=3.0)
    nums = numbers(1)
    create(store, new_rows(nums), policy)
    with running_simulator(
        api_key=Secret(api_key), speed=SPEED, call_limit=None, request_limit=None
    ) as sim:
        sim.sim.force(Fault.LOST_AFTER_CREATE, 1)
        sim.sim.force(Fault.FLAKY_GET, 2)  # the first two looks fail, then the list reads
        engine = make_engine(
            store, sim, api_key, policy, wrap_client=_one_try_per_look(sim, api_key)
        )
        run_to_end(engine, deadline_s=30)
        per_number = calls_per_number(sim)
        gets = sim.sim.stats().get("GET /calls", 0)
    row = store.get_row(CID, 0)
    assert row is not None
    assert gets > 2  # it was unreadable, then read
    assert per_number == {nums[0]: 1}
    assert row.status in API_FINAL, (row.status, row.error)  # the lost call found and followed
    assert row.call_id and row.attempts == 1
