"""A shift that ends during a Redis outage passes its slot on as soon as Redis is back (not when
the slot's lease runs out), and the reviver runs a round as soon as it sees Redis come back."""

from __future__ import annotations

from typing import Any

import fakeredis
import pytest
import redis
from kombu.exceptions import OperationalError

from dialer.clock import FakeClock
from dialer.leases import Leases
from workers.tasks import HANDOFF_MS, HANDOVER_PATIENCE_S, RedisWatch, pass_slot_on

KEY = "lock:c1:slot0"


class FlakyRedis:
    """A fakeredis whose commands fail while `down` (a Redis outage), counted in `failed`."""

    def __init__(self) -> None:
        self.real: redis.Redis[str] = fakeredis.FakeRedis(decode_responses=True)
        self.down = False
        self.failed = 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.real, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                self.failed += 1
                raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379")
            return attr(*args, **kwargs)

        return call


def test_a_shift_ending_in_an_outage_passes_its_slot_on_once_redis_is_back() -> None:
    real: redis.Redis[str] = fakeredis.FakeRedis(decode_responses=True)
    leases, clock = Leases(real), FakeClock()
    start = clock.now()
    assert leases.hold(KEY, "shift-1", 20_000)
    hand_over = leases.hand_over

    def hand_over_after_outage(*args: Any) -> bool:
        if clock.now() - start < 3.0:  # Redis away for 3 s
            raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379")
        return hand_over(*args)

    leases.hand_over = hand_over_after_outage  # type: ignore[method-assign]
    sent: list[str] = []
    send_failures = [OperationalError("Error 111")]  # and gone again between hand-over and send

    def send(token: str) -> None:
        if send_failures:
            raise send_failures.pop()
        sent.append(token)

    assert pass_slot_on(leases, clock, KEY, "shift-1", send)
    assert len(sent) == 1 and leases.holder(KEY) == sent[0]
    assert 3.0 <= clock.now() - start <= 4.0  # passed on within a retry or two of Redis back
    assert 0 < real.pttl(KEY) <= HANDOFF_MS


def test_a_slot_already_passed_on_by_a_lost_answer_is_not_passed_twice() -> None:
    real: redis.Redis[str] = fakeredis.FakeRedis(decode_responses=True)
    leases, clock = Leases(real), FakeClock()
    leases.hold(KEY, "shift-1", 20_000)
    sent: list[str] = []
    answers = iter([redis.ConnectionError("reply lost")])

    def hand_over_once_unanswered(key: str, token: str, next_token: str, lease_ms: int) -> bool:
        done = Leases(real).hand_over(key, token, next_token, lease_ms)
        if (exc := next(answers, None)) is not None:
            raise exc  # applied on the server, its answer lost with the connection
        return done

    leases.hand_over = hand_over_once_unanswered  # type: ignore[method-assign]
    assert pass_slot_on(leases, clock, KEY, "shift-1", sent.append)
    assert sent == [real.get(KEY)]


def test_a_shift_gives_its_slot_up_to_the_reviver_when_redis_stays_away() -> None:
    flaky, clock = FlakyRedis(), FakeClock()
    leases = Leases(flaky)  # type: ignore[arg-type]
    flaky.down = True
    sent: list[str] = []
    assert not pass_slot_on(leases, clock, KEY, "shift-1", sent.append)
    assert sent == []
    assert HANDOVER_PATIENCE_S <= clock.now() - 1_700_000_000.0 < HANDOVER_PATIENCE_S + 1


def test_a_slot_passed_on_by_another_shift_is_left_alone() -> None:
    real: redis.Redis[str] = fakeredis.FakeRedis(decode_responses=True)
    leases = Leases(real)
    leases.hold(KEY, "shift-2", 20_000)
    sent: list[str] = []
    assert not pass_slot_on(leases, FakeClock(), KEY, "shift-1", sent.append)
    assert sent == [] and leases.holder(KEY) == "shift-2"


def test_the_watch_says_when_redis_is_back_from_an_outage_or_a_restart() -> None:
    flaky, server = FlakyRedis(), ["run-1"]
    flaky.real.info = lambda *a: {"run_id": server[0]}  # type: ignore[method-assign]
    watch = RedisWatch(flaky)  # type: ignore[arg-type]
    assert not watch.back()  # the first look
    assert not watch.back()
    flaky.down = True
    with pytest.raises(redis.ConnectionError):
        watch.back()
    flaky.down = False
    assert watch.back()  # back from the outage
    assert not watch.back()
    server[0] = "run-2"
    assert watch.back()  # restarted between two looks (redis-py reconnects unseen)
    assert not watch.back()
