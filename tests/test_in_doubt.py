"""Verified absence, then dial: under a mix of API faults every valid number is called exactly
once and no row ends `unknown` (the simulator over real HTTP; both stores).

Faults, each on 5% of requests: a 500 before the call is created, the answer lost after it was
created, a read timeout (the answer held back past the client's timeout), and GETs answering
5xx (the call list itself is flaky while it is searched).
"""

from __future__ import annotations

import pytest

from campaigns.store.rows import RowStatus, RowStore
from dialer.settings import Secret
from dialer.simulator.server import running_simulator
from tests.engine_support import (
    CID,
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
