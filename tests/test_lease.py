"""Named leases (dialer.leases): one holder at a time, moved on only by its holder, free again when
the holder stops renewing. On fakeredis (the Lua scripts included) and on a real Redis."""

from __future__ import annotations

from dialer.leases import Leases
from tests.cli_support import wait_until
from tests.redis_support import RedisSpace

HOUR_MS = 3_600_000


def lease_key(space: RedisSpace) -> str:
    return space.keys.lock("camp", "dispatcher")


def test_one_holder_at_a_time_and_the_holder_renews(redis_space: RedisSpace) -> None:
    leases, key = Leases(redis_space.client), lease_key(redis_space)
    assert leases.hold(key, "a", HOUR_MS)
    assert not leases.hold(key, "b", HOUR_MS)
    assert leases.hold(key, "a", HOUR_MS)  # renewing is holding again
    assert leases.holder(key) == "a"
    assert 0 < redis_space.client.pttl(key) <= HOUR_MS


def test_only_the_holder_releases(redis_space: RedisSpace) -> None:
    leases, key = Leases(redis_space.client), lease_key(redis_space)
    assert leases.hold(key, "a", HOUR_MS)
    assert not leases.release(key, "b")
    assert leases.holder(key) == "a"
    assert leases.release(key, "a")
    assert leases.holder(key) is None
    assert leases.hold(key, "b", HOUR_MS)


def test_only_the_holder_hands_over_and_the_next_holds_it(redis_space: RedisSpace) -> None:
    leases, key = Leases(redis_space.client), lease_key(redis_space)
    assert leases.hold(key, "a", HOUR_MS)
    assert not leases.hand_over(key, "b", "c", HOUR_MS)
    assert leases.hand_over(key, "a", "next", HOUR_MS)
    assert leases.holder(key) == "next"
    assert not leases.hold(key, "a", HOUR_MS)
    assert leases.hold(key, "next", HOUR_MS)


def test_a_free_lease_cannot_be_handed_over(redis_space: RedisSpace) -> None:
    leases, key = Leases(redis_space.client), lease_key(redis_space)
    assert not leases.hand_over(key, "a", "next", HOUR_MS)
    assert leases.holder(key) is None


def test_a_holder_that_stops_renewing_frees_the_lease(redis_space: RedisSpace) -> None:
    leases, key = Leases(redis_space.client), lease_key(redis_space)
    assert leases.hold(key, "dead", 50)  # and then it died
    assert not leases.hold(key, "live", HOUR_MS)
    wait_until(lambda: leases.holder(key) is None, timeout_s=5, what="the lease to run out")
    assert leases.hold(key, "live", HOUR_MS)
    assert leases.holder(key) == "live"
