"""LocalLimiter on a FakeClock: exact waits, nothing sleeps for real."""

from __future__ import annotations

import itertools
import random
import threading

import pytest

from dialer.clock import FakeClock
from dialer.limiter import LocalLimiter, interval_us
from dialer.settings import Rate

FAST = Rate(1000, 1)  # a limit that never binds in these tests


def make(call: Rate = FAST, request: Rate = FAST) -> tuple[LocalLimiter, FakeClock]:
    clock = FakeClock()
    return LocalLimiter(call, request, clock), clock


def test_interval_is_exact_or_rounded_up() -> None:
    assert interval_us(Rate(100, 60)) == 600_000
    assert interval_us(Rate(1000, 3600)) == 3_600_000
    assert interval_us(Rate(25, 1)) == 40_000
    assert interval_us(Rate(7, 1)) == 142_858  # 142857.14...: up, never over the rate


def test_calls_are_spaced_by_the_call_limit() -> None:
    limiter, clock = make(call=Rate(10, 1))
    assert limiter.acquire_call("a", None) == 0.0
    assert limiter.acquire_call("b", None) == pytest.approx(0.1)
    clock.advance(0.06)
    assert limiter.acquire_call("b", None) == pytest.approx(0.04)
    clock.advance(0.04)
    assert limiter.acquire_call("b", None) == 0.0


def test_idle_time_is_not_banked_as_burst() -> None:
    limiter, clock = make(call=Rate(10, 1))
    assert limiter.acquire_call("a", None) == 0.0
    clock.advance(60)
    assert limiter.acquire_call("a", None) == 0.0
    assert limiter.acquire_call("a", None) == pytest.approx(0.1)


def test_agent_rate_is_per_agent() -> None:
    limiter, clock = make()
    assert limiter.acquire_call("a", Rate(1, 60)) == 0.0
    clock.advance(1)
    assert limiter.acquire_call("a", Rate(1, 60)) == pytest.approx(59)
    assert limiter.acquire_call("b", Rate(1, 60)) == 0.0


def test_a_refused_call_consumes_no_limit() -> None:
    limiter, clock = make(call=Rate(1, 1), request=Rate(2, 1))
    assert limiter.acquire_call("a", Rate(1, 60)) == 0.0
    clock.advance(1)
    # the agent refuses: the account call and request slots stay free for agent b
    assert limiter.acquire_call("a", Rate(1, 60)) == pytest.approx(59)
    assert limiter.acquire_call("b", None) == 0.0


def test_the_answer_is_the_longest_of_the_waits() -> None:
    limiter, _ = make(call=Rate(1, 1), request=Rate(2, 1))
    assert limiter.acquire_call("a", Rate(1, 10)) == 0.0
    assert limiter.acquire_call("a", Rate(1, 10)) == pytest.approx(10)
    assert limiter.acquire_call("b", None) == pytest.approx(1)
    assert limiter.acquire_request() == pytest.approx(0.5)


def test_a_call_is_a_request_and_waits_for_the_request_limit() -> None:
    limiter, clock = make(request=Rate(1, 10))
    assert limiter.acquire_request() == 0.0
    assert limiter.acquire_call("a", Rate(1, 60)) == pytest.approx(10)
    clock.advance(10)
    # the refused call did not take the agent's slot: it passes now, not 50 s later
    assert limiter.acquire_call("a", Rate(1, 60)) == 0.0
    assert limiter.acquire_request() == pytest.approx(10)


def test_requests_do_not_consume_the_call_limit() -> None:
    limiter, clock = make(call=Rate(1, 60))
    for _ in range(5):
        assert limiter.acquire_request() == 0.0
        clock.advance(1)
    assert limiter.acquire_call("a", None) == 0.0


def test_push_back_holds_calls_and_requests_until_the_reset() -> None:
    limiter, clock = make()
    limiter.push_back(clock.now() + 30)
    assert limiter.acquire_call("a", None) == pytest.approx(30)
    assert limiter.acquire_request() == pytest.approx(30)
    limiter.push_back(clock.now() + 10)  # only ever forward
    assert limiter.acquire_request() == pytest.approx(30)
    clock.advance(30)
    assert limiter.acquire_call("a", None) == 0.0


def test_push_back_to_the_past_changes_nothing() -> None:
    limiter, clock = make(call=Rate(1, 1))
    assert limiter.acquire_call("a", None) == 0.0
    limiter.push_back(clock.now() - 5)
    assert limiter.acquire_call("a", None) == pytest.approx(1)


def test_wait_call_sleeps_exactly_the_answered_waits() -> None:
    limiter, clock = make(call=Rate(10, 1))
    start_s = clock.now()
    for _ in range(5):
        assert limiter.wait_call("a", None, clock)
    assert clock.sleeps == pytest.approx([0.1] * 4)
    assert clock.now() - start_s == pytest.approx(0.4)


def test_wait_request_sleeps_exactly_the_answered_waits() -> None:
    limiter, clock = make(request=Rate(2, 1))
    assert limiter.wait_request(clock)
    assert limiter.wait_request(clock)
    assert clock.sleeps == pytest.approx([0.5])


def test_wait_stops_between_sleeps_without_taking_a_slot() -> None:
    limiter, clock = make(call=Rate(1, 60))
    assert limiter.wait_call("a", None, clock)
    assert not limiter.wait_call("a", None, clock, stop=lambda: len(clock.sleeps) >= 1)
    assert clock.sleeps == pytest.approx([60])
    assert not limiter.wait_request(clock, stop=lambda: True)
    assert limiter.acquire_request() == 0.0  # the stopped wait took nothing


def test_threads_on_a_frozen_clock_let_exactly_one_through() -> None:
    limiter, _ = make(call=Rate(1, 1))
    passed: list[int] = []

    def hammer(worker: int) -> None:
        for _ in range(200):
            if limiter.acquire_call(f"agent-{worker}", Rate(5, 1)) == 0.0:
                passed.append(worker)

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(passed) == 1


def test_random_arrivals_never_come_closer_than_the_interval() -> None:
    # With a burst of 1, at most R*w + 1 in any w is the same as: no two starts closer than 1/R.
    rate = Rate(25, 1)
    limiter, clock = make(call=rate)
    rng = random.Random(7)
    starts_s: list[float] = []
    while clock.now() - 1_700_000_000 < 30:
        if limiter.acquire_call(rng.choice("abc"), Rate(40, 1)) == 0.0:
            starts_s.append(clock.now())
        clock.advance(rng.uniform(0, 0.05))
    gaps_s = [b - a for a, b in itertools.pairwise(starts_s)]
    assert min(gaps_s) >= rate.interval_s - 1e-6
    assert len(starts_s) > 0.5 * 30 * rate.per_s  # arrivals are random: no full use
