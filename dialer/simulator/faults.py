"""What the simulator does to make a client's life hard: quotas and injected faults.

Both are plain objects driven by the caller's clock and random generator; the simulator holds
its lock around them.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from dialer.settings import Rate


@dataclass(frozen=True)
class QuotaVerdict:
    """The answer of one quota check, and the `X-RateLimit-*` headers that describe it."""

    allowed: bool
    limit: int
    remaining: int
    reset_s: float  # epoch seconds when the current window ends

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(self.reset_s)),
        }


class FixedWindowQuota:
    """`rate.count` events per key in each window of `rate.period_s`, aligned on the epoch
    (so a window's reset is a round epoch time, as the docs' example shows)."""

    def __init__(self, rate: Rate) -> None:
        self._limit = int(rate.count)
        self._period_s = rate.period_s
        self._windows: dict[str, tuple[float, int]] = {}  # key -> (window start, used)

    def take(self, key: str, now: float) -> QuotaVerdict:
        """Spend one event of `key` if the window has room; a refused event spends nothing."""
        start, used = self._window(key, now)
        allowed = used < self._limit
        if allowed:
            used += 1
        self._windows[key] = (start, used)
        return self._verdict(allowed, start, used)

    def peek(self, key: str, now: float) -> QuotaVerdict:
        """The state of `key`'s window, spending nothing."""
        start, used = self._window(key, now)
        return self._verdict(used < self._limit, start, used)

    def _window(self, key: str, now: float) -> tuple[float, int]:
        start = now - now % self._period_s
        window_start, used = self._windows.get(key, (start, 0))
        return start, used if window_start == start else 0

    def _verdict(self, allowed: bool, start: float, used: int) -> QuotaVerdict:
        return QuotaVerdict(allowed, self._limit, self._limit - used, start + self._period_s)


class Fault(StrEnum):
    THROTTLE = "throttle"  # a spurious 429 on POST /calls, before creating
    ERROR_BEFORE_CREATE = "error_before_create"  # a 500 on POST /calls, nothing created
    LOST_AFTER_CREATE = "lost_after_create"  # created, then the connection breaks mid-answer
    SLOW_AFTER_CREATE = "slow_after_create"  # created, then the answer comes `slow_s` late
    FLAKY_GET = "flaky_get"  # a GET answers 500 or 503


class FaultInjector:
    """Decides, per request, whether a fault strikes: forced ones first, then by probability."""

    def __init__(self, probabilities: Mapping[Fault, float], rng: random.Random) -> None:
        self._probabilities = dict(probabilities)
        self._rng = rng
        self._forced: dict[Fault, int] = {}

    def force(self, fault: Fault, times: int = 1) -> None:
        """Make the next `times` chances of `fault` strike, whatever its probability."""
        self._forced[fault] = self._forced.get(fault, 0) + times

    def clear(self) -> None:
        self._forced.clear()

    def strikes(self, fault: Fault) -> bool:
        if self._forced.get(fault, 0) > 0:
            self._forced[fault] -= 1
            return True
        probability = self._probabilities.get(fault, 0.0)
        return probability > 0 and self._rng.random() < probability
