"""Thin Celery tasks: they carry a campaign id and a slot number, nothing else; the campaign's
engine comes from the campaign service (campaigns/service/), as every door's does.

A campaign is worked by N slots; each slot is a chain of short shifts (`dialer.drive`), each
handing its slot lease to the next before enqueueing it. A slot whose worker died loses its
lease, and the campaign's dispatcher enqueues a new shift for it.

A Redis outage breaks chains: a shift failing on it waits for Redis (up to a slot lease's
length) to hand its slot over, and each worker's reviver looks at Redis every second, so the
round that restarts broken chains runs as soon as Redis is back.
"""

from __future__ import annotations

import functools
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from celery import Celery
from kombu.exceptions import OperationalError

from campaigns.dialing.shift import SLOT_LEASE_MS, Shift, ShiftPlan
from campaigns.store.rows import LIVE_STATES, CampaignState
from dialer.clock import Clock
from dialer.errors import StoreError
from dialer.keys import RedisKeys
from dialer.leases import Leases
from dialer.logs import log_context
from workers.context import WorkerContext

log = logging.getLogger(__name__)

DRIVE_TASK = "dialer.drive"
HANDOFF_MS = 60_000  # how long a queued shift may wait for a worker before its slot is freed
REVIVE_EVERY_S = 10.0  # how often a worker looks for running campaigns left without shifts
WATCH_EVERY_S = 1.0  # how often the reviver checks that Redis is up and the same server
# A shift failed by a Redis outage waits this long for Redis to hand its slot over: as long as
# its slot lease would hold the slot anyway (the reviver restarts the slot after that).
HANDOVER_PATIENCE_S = SLOT_LEASE_MS / 1000
OUTAGE_RETRY_S = 0.5
# Redis away: redis-py's errors, the store's (which wraps them), kombu's when sending a task.
OUTAGE_ERRORS: tuple[type[Exception], ...] = (redis.RedisError, StoreError, OperationalError)

Enqueue = Callable[[str, int, str], None]
T = TypeVar("T")


def slot_key(keys: RedisKeys, campaign_id: str, slot: int) -> str:
    return keys.lock(campaign_id, f"slot{slot}")


def start_slots(
    leases: Leases,
    keys: RedisKeys,
    campaign_id: str,
    slots: int,
    enqueue: Enqueue,
    clock: Clock | None = None,
) -> int:
    """Enqueue a shift for every slot that has none; returns how many were started. With a
    clock, a send that fails on a Redis outage right after the hold is tried again until Redis
    is back (or the slot would wait HANDOFF_MS for a shift never sent)."""
    started = 0
    for slot in range(slots):
        task_id = uuid.uuid4().hex
        if leases.hold(slot_key(keys, campaign_id, slot), task_id, HANDOFF_MS):
            send = functools.partial(enqueue, campaign_id, slot, task_id)
            if clock is None:
                send()
            else:
                through_outage(send, clock, clock.now() + HANDOVER_PATIENCE_S)
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
        start_slots(ctx.leases, ctx.keys, campaign_id, slots, enqueue, ctx.clock)

    state = CampaignState.RUNNING
    try:
        with log_context(campaign=campaign_id):
            state = Shift(engine, ctx.leases, ctx.clock, plan, supervise=supervise).work()
    except Exception:
        # The shift failed (Redis or the API away for long): the next one tries again.
        log.exception("shift of campaign %s, slot %d failed", campaign_id, slot)
    finally:
        if state in LIVE_STATES:
            pass_slot_on(
                ctx.leases, ctx.clock, key, task_id, lambda t: enqueue(campaign_id, slot, t)
            )


def pass_slot_on(
    leases: Leases,
    clock: Clock,
    key: str,
    token: str,
    send: Callable[[str], None],
    patience_s: float = HANDOVER_PATIENCE_S,
) -> bool:
    """Hand the slot from `token` to a next shift and send that shift, waiting out a Redis
    outage for up to `patience_s`: the chain goes on as soon as Redis is back, not when the slot
    lease has run out. False when the slot is another shift's, or Redis stayed away (the
    reviver restarts the slot then)."""
    next_id = uuid.uuid4().hex
    give_up_at = clock.now() + patience_s

    def hand_over() -> bool:
        # a retry after a hand-over whose answer was lost finds the slot already passed on
        return leases.hand_over(key, token, next_id, HANDOFF_MS) or leases.holder(key) == next_id

    try:
        if not through_outage(hand_over, clock, give_up_at):
            return False
        through_outage(functools.partial(send, next_id), clock, give_up_at)
    except OUTAGE_ERRORS as exc:
        log.warning("slot %s not passed on, Redis away (%s): the reviver restarts it", key, exc)
        return False
    return True


def through_outage(step: Callable[[], T], clock: Clock, give_up_at: float) -> T:
    """`step()`, tried again while Redis is away until `give_up_at` (then its error is raised)."""
    while True:
        try:
            return step()
        except OUTAGE_ERRORS:
            if clock.now() >= give_up_at:
                raise
            clock.sleep(OUTAGE_RETRY_S)


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
        started += start_slots(ctx.leases, ctx.keys, meta.campaign_id, slots, enqueue, ctx.clock)
    return started


class RedisWatch:
    """Tells when Redis has just come back: unreachable at the last look, or another server
    (a restart) since the one before."""

    def __init__(self, client: redis.Redis[Any]) -> None:
        self._client = client
        self._run_id: str | None = None
        self._away = False

    def back(self) -> bool:
        try:
            run_id = self._run_id_now()
        except redis.RedisError:
            self._away = True
            raise
        back = self._away or (self._run_id is not None and run_id != self._run_id)
        self._run_id, self._away = run_id, False
        return back

    def _run_id_now(self) -> str:
        try:
            return str(self._client.info("server").get("run_id", ""))
        except redis.ResponseError:  # INFO refused (a managed Redis): a ping tells up or down
            self._client.ping()
            return self._run_id or ""


def revive_forever(
    ctx: WorkerContext, enqueue: Enqueue, stop: threading.Event, every_s: float = REVIVE_EVERY_S
) -> None:
    """A worker's reviver thread: a round every `every_s`, and one at once when Redis comes
    back from an outage or a restart. Failures (Redis away) are logged and tried again."""
    client = ctx.services.redis
    assert client is not None, "the reviver is for the cluster mode"
    watch = RedisWatch(client)
    next_round = ctx.clock.now() + every_s
    while not stop.wait(WATCH_EVERY_S):
        try:
            back = watch.back()
            if back:
                log.warning(
                    "Redis is back: restarting the campaigns the outage left without shifts"
                )
            if back or ctx.clock.now() >= next_round:
                next_round = ctx.clock.now() + every_s
                if n := revive(ctx, enqueue):
                    log.warning("revived %d shifts of campaigns left without any", n)
        except Exception as exc:  # Redis away: the next look tries again
            log.info("reviver: %s", exc)


def register_tasks(app: Celery, ctx: WorkerContext) -> None:
    def enqueue(campaign_id: str, slot: int, task_id: str) -> None:
        send_shift(app, campaign_id, slot, task_id)

    @app.task(name=DRIVE_TASK, bind=True)  # type: ignore[untyped-decorator]
    def drive_task(self: Any, campaign_id: str, slot: int) -> None:
        drive(ctx, campaign_id, slot, str(self.request.id), enqueue)
