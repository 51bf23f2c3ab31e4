"""How many wrong tokens the sign-in form takes: per client, and from everybody together.

Each is a token bucket: `burst` wrong tries at once, then one more every `refill_s`. Only wrong
tries spend; a bucket that is empty refuses the next try before the token is even compared,
so a guesser over the limit learns nothing, however many tries it sends. The overall bucket
holds when the guesses come from many addresses. Clients are kept in a bounded table (the
least recently seen forgotten first), so a flood of addresses costs bounded memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from dialer.clock import Clock

MAX_CLIENTS = 10_000


@dataclass(frozen=True)
class Bucket:
    burst: int  # wrong tries at once
    refill_s: float  # then one more every refill_s


@dataclass(frozen=True)
class SignInLimits:
    per_client: Bucket = Bucket(burst=10, refill_s=30.0)  # a person mistyping never meets it
    overall: Bucket = Bucket(burst=100, refill_s=3.0)  # about 1,200 guesses an hour at most


class SignInLimiter:
    def __init__(self, limits: SignInLimits, clock: Clock, max_clients: int = MAX_CLIENTS) -> None:
        self._limits = limits
        self._clock = clock
        self._max_clients = max_clients
        self._lock = threading.Lock()
        self._spent: OrderedDict[str, float] = OrderedDict()  # client -> when its bucket is full
        self._overall_full_at = 0.0

    def wait_s(self, client: str) -> float:
        """0.0 when `client` may try now, else the seconds until it may."""
        now = self._clock.now()
        with self._lock:
            client_full_at = self._spent.get(client, 0.0)
        return max(
            _wait_s(client_full_at, self._limits.per_client, now),
            _wait_s(self._overall_full_at, self._limits.overall, now),
        )

    def failed(self, client: str) -> None:
        """A wrong token from `client`: one try spent from its bucket and the overall one."""
        now = self._clock.now()
        with self._lock:
            spent = _spend(self._spent.pop(client, 0.0), self._limits.per_client, now)
            self._spent[client] = spent
            while len(self._spent) > self._max_clients:
                self._spent.popitem(last=False)
            self._overall_full_at = _spend(self._overall_full_at, self._limits.overall, now)


# A bucket is kept as the time it will be full again: each try spent pushes it refill_s later.
def _spend(full_at: float, bucket: Bucket, now: float) -> float:
    return max(full_at, now) + bucket.refill_s


def _wait_s(full_at: float, bucket: Bucket, now: float) -> float:
    # empty when a further try would push it past `burst` tries' worth of refills
    return max(0.0, full_at + bucket.refill_s - now - bucket.burst * bucket.refill_s)
