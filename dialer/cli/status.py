"""What `dialer status` shows: each campaign's live figures, and in cluster mode the workers
consuming the shifts (from Celery's inspect), as text or as one JSON object."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import click

from campaigns.store.rows import (
    LEFT_TO_DO,
    LIVE_STATES,
    CampaignMeta,
    CampaignState,
    RowStatus,
    RowStore,
)
from dialer.clock import Clock
from dialer.errors import CampaignNotFound
from dialer.settings import Settings

if TYPE_CHECKING:
    from campaigns.backends import Services

T = TypeVar("T")
STATUS_OUTAGE_S = 30.0  # `dialer status` without --wait waits this long for Redis to come back
WAIT_POLL_S = 2.0


@dataclass(frozen=True)
class CampaignFigures:
    campaign_id: str
    state: str
    counts: dict[str, int]
    left: int  # rows still to dial or to follow
    live_calls: int
    poll_lag_s: float  # now minus the due time of the oldest call due for a poll
    reason: str = ""

    def line(self) -> str:
        return f"{self.campaign_id}: {self.state}, {self.left} rows left | " + ", ".join(
            f"{s} {n}" for s, n in sorted(self.counts.items())
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign_id,
            "state": self.state,
            "left": self.left,
            "live_calls": self.live_calls,
            "poll_lag_s": round(self.poll_lag_s, 3),
            "counts": self.counts,
            "reason": self.reason,
        }


def figures(store: RowStore, meta: CampaignMeta, now: float) -> CampaignFigures:
    counts = store.counts(meta.campaign_id)
    due_at = store.next_poll_at(meta.campaign_id)
    return CampaignFigures(
        campaign_id=meta.campaign_id,
        state=meta.state.value,
        counts={s.value: n for s, n in counts.items()},
        left=sum(counts.get(s, 0) for s in LEFT_TO_DO),
        live_calls=counts.get(RowStatus.ACTIVE, 0),
        poll_lag_s=max(now - due_at, 0.0) if due_at else 0.0,
        reason=meta.reason,
    )


def live_campaigns(store: RowStore) -> list[CampaignMeta]:
    return [m for m in store.list_campaigns() if m.state in LIVE_STATES]


@dataclass
class StatusView:
    campaigns: list[CampaignFigures]
    cluster: bool
    workers: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"campaigns": [c.to_json() for c in self.campaigns]}
        if self.cluster:
            out["workers"] = self.workers
        return out

    def lines(self) -> list[str]:
        lines = [c.line() for c in self.campaigns]
        if not self.campaigns:
            lines.append("No campaign is running.")
        if self.cluster:
            lines.append(_workers_line(self.workers))
            for w in self.workers:
                shifts = ", ".join(f"{s['campaign']} slot {s['slot']}" for s in w["shifts"])
                lines.append(f"  {w['name']}: {w['processes']} processes; shifts: {shifts or '-'}")
        return lines


def _workers_line(workers: list[dict[str, Any]]) -> str:
    if not workers:
        return "Workers: none is consuming the shifts (start some: dialer worker)."
    processes = sum(int(w["processes"]) for w in workers)
    return f"Workers: {len(workers)} consuming, {processes} processes"


def status_view(
    services: Services,
    clock: Clock,
    campaign_id: str | None,
    wait: bool,
    as_json: bool,
    *,
    workers_only: bool = False,
) -> list[str]:
    """The lines `dialer status` prints: one JSON object (`as_json`), or the campaigns' lines
    then the workers' (only the workers' with `workers_only`). `wait` polls until CAMPAIGN ends."""
    store = services.store
    while True:
        metas = [m for m in [store.get_campaign(campaign_id)] if m] if campaign_id else None
        shown = metas if metas is not None else live_campaigns(store)
        view = StatusView([figures(store, m, clock.now()) for m in shown], services.cluster)
        done = all(f.state != CampaignState.RUNNING.value or f.left == 0 for f in view.campaigns)
        if not wait or campaign_id is None or done:
            break
        clock.sleep(WAIT_POLL_S)
    if services.cluster:
        from workers.inspection import consuming_workers  # only the cluster mode needs Celery

        view.workers = [w.to_json() for w in consuming_workers(services.settings)]
    if as_json:
        return [json.dumps(view.to_json(), indent=2)]
    lines = view.lines()
    return lines[len(view.campaigns) :] if workers_only else lines


@click.command(
    help="Print a campaign's progress (without CAMPAIGN: every running one) and, in cluster "
    "mode, the workers consuming shifts; --wait returns when CAMPAIGN ends."
)
@click.argument("campaign_id", required=False)
@click.option("--wait", is_flag=True, help="Return only when the campaign has ended.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (for scripts).")
def status(campaign_id: str | None, wait: bool, as_json: bool) -> None:
    from rich.console import Console

    from campaigns.backends import open_services
    from campaigns.service.outages import through_outages
    from campaigns.store.rows import LEFT_TO_DO, CampaignState
    from dialer.cli.console import say
    from dialer.cli.report import no_campaign
    from dialer.clock import SystemClock

    settings = Settings.from_env()
    clock = SystemClock()
    console = Console()
    on_stderr = partial(say, Console(stderr=True))
    patience_s = None if wait else STATUS_OUTAGE_S

    def patiently(step: Callable[[], T]) -> T:
        """`step()`; in cluster mode a Redis outage, even at the start, is waited out (said
        once), without --wait for a while only. Embedded, a store error is no outage."""
        if settings.redis_url is None:
            return step()
        return through_outages(step, on_stderr, clock, patience_s)

    services = patiently(partial(open_services, settings, clock))
    try:
        store = services.store
        if campaign_id:
            found = patiently(partial(store.get_campaign, campaign_id))
            if found is None:
                raise CampaignNotFound(no_campaign(campaign_id, services))
        if as_json or campaign_id is None:
            view = partial(status_view, services, clock, campaign_id, wait, as_json)
            for line in patiently(view):
                say(console, line)
            return
        cid: str = campaign_id

        def look() -> tuple[CampaignMeta, int]:
            meta = store.get_campaign(cid)
            if meta is None:
                raise CampaignNotFound(no_campaign(cid, services))
            counts = {s.value: n for s, n in store.counts(cid).items()}
            left = sum(counts.get(s, 0) for s in LEFT_TO_DO)
            say(
                console,
                f"{cid}: {meta.state.value}, {left} rows left | "
                + ", ".join(f"{s} {n}" for s, n in sorted(counts.items())),
            )
            return meta, left

        while True:
            meta, left = patiently(look)
            if not wait or meta.state is not CampaignState.RUNNING or left == 0:
                break
            clock.sleep(2.0)
        if meta.reason:
            say(console, f"reason: {meta.reason}")
        if services.cluster:
            for line in status_view(services, clock, campaign_id, False, False, workers_only=True):
                say(console, line)
    finally:
        services.close()
