"""The embedded mode's loop: one process drives one campaign's engine to its end.

Dialing, polling and the sweep interleave in one thread: the limiter answers how long to wait
instead of blocking, so the loop sleeps until the earliest of the next call slot, the next due
poll and the next sweep, and never spins.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from campaigns.dialing.engine import Engine
from campaigns.store.rows import RowStatus
from dialer.clock import Clock

SWEEP_EVERY_S = 5.0
PROGRESS_EVERY_S = 1.0
MAX_SLEEP_S = 1.0  # how late a stop request may be noticed


class RunEnd(StrEnum):
    FINISHED = "finished"
    STOPPED = "stopped"


@dataclass(frozen=True)
class Progress:
    counts: dict[RowStatus, int]
    calls_created: int
    in_flight: int
    next_pending_at: float | None
    now: float


class StopSignal:
    """Set once to stop dialing new rows (Ctrl-C); live calls are still followed to the end."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def request(self) -> None:
        self._event.set()

    @property
    def requested(self) -> bool:
        return self._event.is_set()


class Runner:
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        *,
        on_progress: Callable[[Progress], None] | None = None,
        sweep_every_s: float = SWEEP_EVERY_S,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.on_progress = on_progress
        self.sweep_every_s = sweep_every_s

    def run(self, stop: StopSignal) -> RunEnd:
        engine, clock = self.engine, self.clock
        next_sweep = next_progress = clock.now()
        while True:
            # Dial first: a limiter slot that just opened is taken before anything else, since
            # a late start is rate lost for good.
            wait_s = 0.0 if stop.requested else engine.dial_next()
            if engine.spend_stop:  # under --min-balance: stop as Ctrl-C does
                stop.request()
            wake_at = clock.now() + wait_s
            now = clock.now()
            if now >= next_sweep:
                engine.sweep()
                next_sweep = now + self.sweep_every_s
            if engine.next_poll_in() <= 0:
                engine.poll_safely()
            if now >= next_progress:
                engine.store.check_intact()  # a state folder deleted mid-run stops the run
                self._report_progress()
                next_progress = now + PROGRESS_EVERY_S
            if stop.requested:
                engine.release_held()
                if engine.store.in_flight(engine.campaign_id) == 0:
                    self._report_progress()
                    return RunEnd.STOPPED
                wake_at = clock.now() + engine.next_poll_in()
            elif wait_s <= 0:
                continue
            elif engine.is_done():
                self._report_progress()
                return RunEnd.FINISHED
            wake_at = min(wake_at, clock.now() + engine.next_poll_in(), next_sweep)
            clock.sleep(max(min(wake_at - clock.now(), MAX_SLEEP_S), 0.001))

    def _report_progress(self) -> None:
        if self.on_progress is None:
            return
        e = self.engine
        self.on_progress(
            Progress(
                counts=e.store.counts(e.campaign_id),
                calls_created=e.stats.calls_created,
                in_flight=e.store.in_flight(e.campaign_id),
                next_pending_at=e.store.next_pending_at(e.campaign_id),
                now=self.clock.now(),
            )
        )
