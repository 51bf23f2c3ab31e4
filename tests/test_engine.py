"""The dialing engine against the simulator over real HTTP, with the SQLite store."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from campaigns.dialing.windows import CallingWindow
from campaigns.store.rows import RowStatus
from dialer.errors import AuthError
from dialer.settings import Rate, Secret
from dialer.simulator.api import Fault
from dialer.simulator.server import SimulatorHandle, running_simulator
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
    sqlite_store,
)

pytestmark = pytest.mark.integration  # the simulator over real HTTP

SPEED = 600.0
API_FINAL = {RowStatus.COMPLETED, RowStatus.FAILED, RowStatus.NO_ANSWER, RowStatus.BUSY}


def test_every_row_called_once_and_followed_to_its_end(
    tmp_path: Path, simulator: SimulatorHandle, api_key: str
) -> None:
    store, policy = sqlite_store(tmp_path), fast_policy(SPEED)
    nums = numbers(40)
    create(store, new_rows(nums), policy)
    run_to_end(make_engine(store, simulator, api_key, policy))
    assert calls_per_number(simulator) == {n: 1 for n in nums}
    rows = list(store.iter_rows(CID))
    assert all(r.status in API_FINAL and r.call_id and r.attempts == 1 for r in rows)
    completed = [r for r in rows if r.status is RowStatus.COMPLETED]
    assert completed and all(r.duration and r.completed_at and r.recording for r in completed)


def test_max_active_is_never_exceeded(
    tmp_path: Path, simulator: SimulatorHandle, api_key: str
) -> None:
    store, policy = sqlite_store(tmp_path), fast_policy(60.0, max_active=3)
    create(store, new_rows(numbers(12)), policy)
    engine = make_engine(store, simulator, api_key, policy)
    seen: list[int] = []
    original = store.begin_dial

    def watching(*args: object, **kwargs: object) -> object:
        seen.append(store.in_flight(CID))
        return original(*args, **kwargs)  # type: ignore[arg-type]

    store.begin_dial = watching  # type: ignore[method-assign]
    run_to_end(engine)
    assert max(seen) <= 2  # in flight before a dial: at most max_active - 1


def test_a_lost_answer_is_adopted_from_the_call_list_never_posted_again(
    tmp_path: Path, simulator: SimulatorHandle, api_key: str
) -> None:
    store, policy = sqlite_store(tmp_path), fast_policy(SPEED)
    nums = numbers(5)
    create(store, new_rows(nums), policy)
    simulator.sim.force(Fault.LOST_AFTER_CREATE, times=2)
    simulator.sim.force(Fault.SLOW_AFTER_CREATE, times=1)
    run_to_end(make_engine(store, simulator, api_key, policy))
    assert calls_per_number(simulator) == {n: 1 for n in nums}
    assert all(r.status in API_FINAL for r in store.iter_rows(CID))


def test_a_5xx_with_no_call_is_proven_absent_then_dialled_once(
    tmp_path: Path, simulator: SimulatorHandle, api_key: str
) -> None:
    policy = fast_policy(SPEED, lease_s=1.0, verify_after_s=1.5)
    store = sqlite_store(tmp_path)
    nums = numbers(3)
    create(store, new_rows(nums), policy)
    simulator.sim.force(Fault.ERROR_BEFORE_CREATE, times=1)
    run_to_end(make_engine(store, simulator, api_key, policy))
    assert calls_per_number(simulator) == {n: 1 for n in nums}
    rows = list(store.iter_rows(CID))
    assert all(r.status in API_FINAL and r.attempts == 1 for r in rows)
    # the history notes the attempt that created nothing, beside the call that was made
    statuses = [sorted(e.status for e in store.history(n)) for n in nums]
    assert sum("not_created" in s for s in statuses) == 1


def test_in_doubt_unknown_keeps_the_strict_behaviour(
    tmp_path: Path, simulator: SimulatorHandle, api_key: str
) -> None:
    policy = fast_policy(SPEED, lease_s=1.0, verify_after_s=1.0, in_doubt="unknown")
    store = sqlite_store(tmp_path)
    nums = numbers(3)
    create(store, new_rows(nums), policy)
    simulator.sim.force(Fault.ERROR_BEFORE_CREATE, times=1)
    run_to_end(make_engine(store, simulator, api_key, policy))
    statuses = final_statuses(store)
    assert statuses[RowStatus.UNKNOWN] == 1  # it may exist as far as we know: never redialled
    assert sum(calls_per_number(simulator).values()) == 2
    (unknown,) = [r for r in store.iter_rows(CID) if r.status is RowStatus.UNKNOWN]
    assert "may or may not" in unknown.error and unknown.attempts == 1


def test_not_sent_goes_back_to_pending_and_is_dialled_later(tmp_path: Path, api_key: str) -> None:
    store, policy = sqlite_store(tmp_path), fast_policy(SPEED, retry_not_sent_s=0.2)
    create(store, new_rows(numbers(1)), policy)
    with running_simulator(speed=SPEED, call_limit=None, request_limit=None) as sim:
        base_url = sim.base_url
    dead = SimulatorHandle(base_url.removesuffix("/api/v1"), sim.sim)  # nothing listens there now
    engine = make_engine(store, dead, api_key, policy)
    assert engine.dial_next() == 0.0
    row = store.get_row(CID, 0)
    assert row is not None and row.status is RowStatus.PENDING and row.attempts == 0
    assert "not sent" in row.error


def test_a_429_pushes_the_limiter_to_the_reset_and_creates_nothing(
    tmp_path: Path, simulator: SimulatorHandle, api_key: str
) -> None:
    store, policy = sqlite_store(tmp_path), fast_policy(SPEED)
    create(store, new_rows(numbers(2)), policy)
    engine = make_engine(store, simulator, api_key, policy)
    simulator.sim.force(Fault.THROTTLE, times=1)
    engine.dial_next()
    row = store.get_row(CID, 0)
    assert row is not None and row.status is RowStatus.PENDING and row.attempts == 0
    assert engine.limiter.acquire_call("agent_demo", None) > 0  # everyone waits for the reset
    assert simulator.sim.audit() == []


def test_a_refused_number_is_rejected_with_the_api_message(
    tmp_path: Path, simulator: SimulatorHandle, api_key: str
) -> None:
    store, policy = sqlite_store(tmp_path), fast_policy(SPEED)
    rows = new_rows(["+1415"])  # passes nothing the API accepts
    create(store, rows, policy)
    run_to_end(make_engine(store, simulator, api_key, policy))
    row = store.get_row(CID, 0)
    assert row is not None and row.status is RowStatus.REJECTED and "400" in row.error


def test_a_refused_key_stops_everything_and_loses_nothing(
    tmp_path: Path, simulator: SimulatorHandle
) -> None:
    store, policy = sqlite_store(tmp_path), fast_policy(SPEED)
    create(store, new_rows(numbers(3)), policy)
    engine = make_engine(store, simulator, "agl_sk_wrong", policy)
    with pytest.raises(AuthError):
        engine.dial_next()
    assert final_statuses(store) == {RowStatus.PENDING: 3}


def test_a_closed_window_defers_the_row_to_its_opening(
    tmp_path: Path, simulator: SimulatorHandle, api_key: str
) -> None:
    window = CallingWindow.parse("09:00-09:01")
    store, policy = sqlite_store(tmp_path), fast_policy(SPEED, window=window)
    create(store, new_rows(numbers(1), zones=("Asia/Tokyo",)), policy)
    engine = make_engine(store, simulator, api_key, policy)
    now = engine.clock.now()
    if window.is_open(("Asia/Tokyo",), now):
        pytest.skip("the minute this test runs in is inside its window")
    engine.dial_next()
    row = store.get_row(CID, 0)
    assert row is not None and row.status is RowStatus.PENDING
    assert row.not_before == window.next_open(("Asia/Tokyo",), now)
    assert simulator.sim.audit() == []


def test_redial_gives_busy_rows_another_attempt(tmp_path: Path, api_key: str) -> None:
    busy = {n: "busy" for n in numbers(3)}
    with running_simulator(
        api_key=Secret(api_key),
        speed=SPEED,
        call_limit=None,
        request_limit=None,
        outcome_by_number=busy,
    ) as sim:
        store = sqlite_store(tmp_path)
        policy = fast_policy(SPEED, redial={"busy": 1}, redial_after_s=0.1)
        create(store, new_rows(numbers(3)), policy)
        run_to_end(make_engine(store, sim, api_key, policy))
        assert calls_per_number(sim) == {n: 2 for n in numbers(3)}
        assert all(r.status is RowStatus.BUSY and r.attempts == 2 for r in store.iter_rows(CID))


def test_polling_is_paced_per_interval_not_per_call(tmp_path: Path, api_key: str) -> None:
    """One POST per call, and the list pages that follow 50 live calls come at most once per
    poll interval (plus the single GETs of the last calls), however many calls are live. The
    requests-per-call figure itself depends on how busy the machine is (a slower run polls
    longer); it is measured by `make bench` (economy), not here."""
    speed = 120.0  # a 2-minute call lasts one second
    with running_simulator(
        api_key=Secret(api_key),
        speed=speed,
        talk_s=(120.0, 120.0),
        call_limit=None,
        request_limit=None,
        outcome_weights={"completed": 1.0},
    ) as sim:
        store, policy = sqlite_store(tmp_path), fast_policy(speed, max_active=50)
        create(store, new_rows(numbers(300)), policy)
        engine = make_engine(store, sim, api_key, policy, call_limit=Rate(100, 1))
        started = time.monotonic()
        run_to_end(engine, deadline_s=90)
        elapsed_s = time.monotonic() - started
        assert final_statuses(store)[RowStatus.COMPLETED] == 300
        requests = sim.sim.stats()
        assert requests.get("POST /calls") == 300
        pages = requests.get("GET /calls", 0)
        interval_s = policy.poll.min_interval_s * policy.poll.scale
        print(f"{pages} list pages in {elapsed_s:.1f} s; requests: {requests}")
        assert pages <= elapsed_s / interval_s + 10
        assert pages + requests.get("GET /calls/{id}", 0) < 300
