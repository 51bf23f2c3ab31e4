"""What the campaign page polls: a campaign's counts, calls live, current rate and ETA.

Read from the store only, so it is the same for a run in this process, one on the cluster's
workers, and one that `dialer run` drives in another process. The rate is measured from the
polls themselves (calls started between one poll and those of the last minute), so it costs
no extra reading of the rows.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from campaigns.store.rows import (
    ENDED_STATES,
    LEFT_TO_DO,
    LIVE_STATES,
    NOT_CALLABLE,
    NOT_STARTED,
    CampaignMeta,
    CampaignState,
    RowStatus,
    RowStore,
)

RATE_WINDOW_S = 60.0
# The statuses the page shows, in the order of its chart: in flight, called, not callable.
SHOWN_STATUSES: tuple[RowStatus, ...] = (
    RowStatus.PENDING,
    RowStatus.DIALING,
    RowStatus.ACTIVE,
    RowStatus.COMPLETED,
    RowStatus.NO_ANSWER,
    RowStatus.BUSY,
    RowStatus.FAILED,
    RowStatus.REJECTED,
    RowStatus.UNKNOWN,
    RowStatus.INVALID,
    RowStatus.DUPLICATE,
    RowStatus.SUPPRESSED,
)


class RateMeter:
    """Calls started per minute, per campaign, from samples of how many have started."""

    def __init__(self, window_s: float = RATE_WINDOW_S) -> None:
        self._window_s = window_s
        self._samples: dict[str, deque[tuple[float, int]]] = {}
        self._lock = threading.Lock()  # polls of one campaign may arrive together

    def per_min(self, cid: str, now: float, started: int) -> float | None:
        """None until two samples a second apart exist."""
        with self._lock:
            samples = self._samples.setdefault(cid, deque())
            samples.append((now, started))
            while len(samples) > 2 and samples[0][0] < now - self._window_s:
                samples.popleft()
            (t0, n0), (t1, n1) = samples[0], samples[-1]
        return (n1 - n0) / (t1 - t0) * 60 if t1 - t0 >= 1.0 else None


@dataclass(frozen=True)
class Snapshot:
    campaign_id: str
    state: str
    reason: str
    counts: dict[str, int]  # every shown status, zeros included
    total_rows: int
    callable_rows: int
    done_rows: int  # callable rows that reached a final status
    in_flight: int
    rate_per_min: float | None
    eta_s: float | None
    next_due_at: float | None  # when the next waiting row may be called (windows, redials)
    running_here: bool
    can_stop: bool
    can_resume: bool

    @property
    def ended(self) -> bool:
        return self.state in ENDED_STATES

    @property
    def percent_done(self) -> float:
        return 100.0 * self.done_rows / self.callable_rows if self.callable_rows else 100.0

    def to_json(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "state": self.state,
            "reason": self.reason,
            "counts": self.counts,
            "total_rows": self.total_rows,
            "callable_rows": self.callable_rows,
            "done_rows": self.done_rows,
            "percent_done": round(self.percent_done, 1),
            "in_flight": self.in_flight,
            "rate_per_min": self.rate_per_min,
            "eta_s": self.eta_s,
            "next_due_at": self.next_due_at,
            "running_here": self.running_here,
            "can_stop": self.can_stop,
            "can_resume": self.can_resume,
            "ended": self.ended,
        }


def snapshot(
    store: RowStore,
    meta: CampaignMeta,
    meter: RateMeter,
    now: float,
    *,
    running_here: bool,
    cluster: bool,
) -> Snapshot:
    cid = meta.campaign_id
    counts = store.counts(cid)
    started = sum(n for s, n in counts.items() if s not in NOT_STARTED)
    callable_rows = sum(n for s, n in counts.items() if s not in NOT_CALLABLE)
    left = sum(counts.get(s, 0) for s in LEFT_TO_DO)
    rate = meter.per_min(cid, now, started)
    live = meta.state in LIVE_STATES
    # Embedded: only this process can stop its own thread. Cluster: the store's state is heard
    # by every worker, so any running campaign can be stopped from here.
    can_stop = meta.state is CampaignState.RUNNING and (cluster or running_here)
    return Snapshot(
        campaign_id=cid,
        state=str(meta.state),
        reason=meta.reason,
        counts={str(s): counts.get(s, 0) for s in SHOWN_STATUSES},
        total_rows=meta.total_rows,
        callable_rows=callable_rows,
        done_rows=callable_rows - left,
        in_flight=store.in_flight(cid),
        rate_per_min=rate,
        eta_s=left / rate * 60 if rate and live and left else None,
        next_due_at=store.next_pending_at(cid) if live else None,
        running_here=running_here,
        can_stop=can_stop,
        can_resume=_can_resume(meta.state, running_here, cluster),
    )


def _can_resume(state: CampaignState, running_here: bool, cluster: bool) -> bool:
    if state is CampaignState.FINISHED or running_here:
        return False
    if cluster:
        return state in (CampaignState.STOPPED, CampaignState.FAILED)
    # Embedded and not running in this process: stopped, failed, or left `running` by a process
    # that died (a `dialer serve` restarted); the page says to resume only if nothing runs it.
    return True
