"""Thin Celery tasks: they carry a campaign id and a slot number, nothing else; the campaign's
engine comes from the campaign service (campaigns/service/), as every door's does.

A campaign is worked by N slots; each slot is a chain of short shifts (`dialer.drive`), each
handing its slot lease to the next before enqueueing it. A slot whose worker died loses its
lease, and the campaign's dispatcher enqueues a new shift for it.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

from celery import Celery

from campaigns.service import LIVE_STATES
from campaigns.shift import Shift, ShiftPlan
from campaigns.store import CampaignState
from dialer.lease import Leases
from dialer.logs import log_context
from dialer.redis_keys import RedisKeys
from workers.context import WorkerContext

log = logging.getLogger("dialer.workers")

DRIVE_TASK = "dialer.drive"
HANDOFF_MS = 60_000  # how long a queued shift may wait for a worker before its slot is freed
REVIVE_EVERY_S = 10.0  # how often a worker looks for running campaigns left without shifts

Enqueue = Callable[[str, int, str], None]


def slot_key(keys: RedisKeys, campaign_id: str, slot: int) -> str:
    return keys.lock(campaign_id, f"slot{slot}")


def start_slots(
    leases: Leases, keys: RedisKeys, campaign_id: str, slots: int, enqueue: Enqueue
) -> int:
    """Enqueue a shift for every slot that has none; returns how many were started."""
    started = 0
    for slot in range(slots):
        task_id = uuid.uuid4().hex
        if leases.hold(slot_key(keys, campaign_id, slot), task_id, HANDOFF_MS):
            enqueue(campaign_id, slot, task_id)
            started += 1
    return started


def drive(ctx: WorkerContext, campaign_id: str, slot: int, task_id: str, enqueue: Enqueue) -> None:
    service = ctx.service
    meta = service.live(campaign_id)
    if meta is None:
        return
    slots = int(str(meta.settings.get("slots", 1)))
    owner = f"{ctx.identity()}:{task_id}"
    engine = service.engine_for(meta, ctx.client, owner, ctx.metrics)
    key = slot_key(ctx.keys, campaign_id, slot)
    plan = ShiftPlan(
        slot_key=key,
        dispatcher_key=ctx.keys.lock(campaign_id, "dispatcher"),
        token=task_id,
        dispatcher_token=f"slot{slot}",
    )

    def supervise() -> None:
        start_slots(ctx.leases, ctx.keys, campaign_id, slots, enqueue)

    state = CampaignState.RUNNING
    try:
        with log_context(campaign=campaign_id):
            state = Shift(engine, ctx.leases, ctx.clock, plan, supervise=supervise).work()
    except Exception:
        # The shift failed (Redis or the API away for long): the next one tries again.
        log.exception("shift of campaign %s, slot %d failed", campaign_id, slot)
    finally:
        if state in LIVE_STATES:
            next_id = uuid.uuid4().hex
            if ctx.leases.hand_over(key, task_id, next_id, HANDOFF_MS):
                enqueue(campaign_id, slot, next_id)


def send_shift(app: Celery, campaign_id: str, slot: int, task_id: str) -> None:
    # keyword arguments: Flower and `celery inspect` show them by name
    app.send_task(DRIVE_TASK, kwargs={"campaign_id": campaign_id, "slot": slot}, task_id=task_id)


def revive(ctx: WorkerContext, enqueue: Enqueue) -> int:
    """Start a shift for every slot of a live campaign that has none: its chain of shifts broke
    (a Redis outage, every worker killed). A slot that has one keeps it (the lease decides), so
    every worker may run this at once. Returns how many shifts were started."""
    started = 0
    for meta in ctx.service.live_campaigns():
        slots = int(str(meta.settings.get("slots", 1)))
        started += start_slots(ctx.leases, ctx.keys, meta.campaign_id, slots, enqueue)
    return started


def revive_forever(ctx: WorkerContext, enqueue: Enqueue, stop: threading.Event) -> None:
    """A worker's reviver thread: failures (Redis away) are logged and tried again."""
    while not stop.wait(REVIVE_EVERY_S):
        try:
            if n := revive(ctx, enqueue):
                log.warning("revived %d shifts of campaigns left without any", n)
        except Exception as exc:  # Redis away: the next round tries again
            log.info("reviver: %s", exc)


def register_tasks(app: Celery, ctx: WorkerContext) -> None:
    def enqueue(campaign_id: str, slot: int, task_id: str) -> None:
        send_shift(app, campaign_id, slot, task_id)

    @app.task(name=DRIVE_TASK, bind=True)  # type: ignore[untyped-decorator]
    def drive_task(self: Any, campaign_id: str, slot: int) -> None:
        drive(ctx, campaign_id, slot, str(self.request.id), enqueue)
