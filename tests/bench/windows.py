"""Pacing figures from call creation times: the share of the allowed rate used, and the most
starts in any sliding window of `w` seconds, beside the GCRA bound `rate * w + 1`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Pacing:
    calls: int
    span_s: float  # first to last creation
    rate_per_s: float  # the allowed rate the calls are compared with
    share: float  # achieved / allowed: 1.0 is the whole rate, above 1.0 is over the limit
    worst_by_window_s: dict[float, int]  # window length -> most starts in any such window

    def bound(self, window_s: float) -> float:
        return bound_for(self.rate_per_s, window_s)


def bound_for(rate_per_s: float, window_s: float) -> float:
    """The most starts a limiter with burst 1 may allow in any `window_s` seconds."""
    return rate_per_s * window_s + 1


def rate_share(times_s: Sequence[float], rate_per_s: float, until_s: float | None = None) -> float:
    """(n - 1) intervals over the first-to-last span, as a share of `rate_per_s`; a run cut
    short is measured until `until_s`, the end of its observation, rather than its last call."""
    ordered = sorted(times_s)
    end_s = ordered[-1] if ordered and until_s is None else (until_s or 0.0)
    if len(ordered) < 2 or end_s <= ordered[0]:
        return 0.0
    return (len(ordered) - 1) / (end_s - ordered[0]) / rate_per_s


def events_per_s(times_s: Sequence[float]) -> float:
    """Events per second from the first to the last."""
    return rate_share(times_s, 1.0)


def worst_window(times_s: Sequence[float], window_s: float) -> int:
    """The most events in any half-open window [t, t + window_s)."""
    ordered = sorted(times_s)
    worst, first = 0, 0
    for last, t in enumerate(ordered):
        while t - ordered[first] >= window_s:
            first += 1
        worst = max(worst, last - first + 1)
    return worst


def pacing_of(
    times_s: Sequence[float],
    rate_per_s: float,
    windows_s: Sequence[float],
    until_s: float | None = None,
) -> Pacing:
    ordered = sorted(times_s)
    end_s = until_s if until_s is not None else (ordered[-1] if ordered else 0.0)
    return Pacing(
        calls=len(ordered),
        span_s=end_s - ordered[0] if ordered else 0.0,
        rate_per_s=rate_per_s,
        share=rate_share(ordered, rate_per_s, until_s),
        worst_by_window_s={w: worst_window(ordered, w) for w in windows_s},
    )
