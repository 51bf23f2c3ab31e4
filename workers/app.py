"""The Celery app of the cluster mode, built from the settings (no module-level app)."""

from __future__ import annotations

import os
import threading
import uuid
from typing import Any

from celery import Celery
from celery.signals import worker_ready

from dialer.settings import Settings
from workers.context import WorkerContext
from workers.tasks import DRIVE_TASK, register_tasks, revive_forever

# A task runs for one short shift (seconds); an unacked one is redelivered after this, which
# recovers the shifts of a worker that was killed. Redelivery is harmless: the row store, not
# the broker, decides who dials.
VISIBILITY_TIMEOUT_S = 60


def make_app(settings: Settings) -> Celery:
    if settings.redis_url is None:
        raise ValueError("the cluster mode needs REDIS_URL")
    app = Celery("dialer", broker=settings.redis_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_S},
    )
    register_tasks(app, WorkerContext(settings))
    return app


def _start_reviver(app: Celery, settings: Settings) -> None:
    """Once the worker is up, a thread of its main process revives campaigns whose shifts all
    died (workers.tasks.revive)."""

    def enqueue(campaign_id: str, slot: int, task_id: str) -> None:
        app.send_task(DRIVE_TASK, args=[campaign_id, slot], task_id=task_id)

    def start(**_: Any) -> None:
        thread = threading.Thread(
            target=revive_forever,
            args=(WorkerContext(settings), enqueue, threading.Event()),
            name="dialer-reviver",
            daemon=True,
        )
        thread.start()

    worker_ready.connect(start, weak=False)


def run_worker(settings: Settings, *, concurrency: int | None, loglevel: str) -> None:
    app = make_app(settings)
    _start_reviver(app, settings)
    argv: list[Any] = ["worker", f"--loglevel={loglevel}", "--without-gossip", "--without-mingle"]
    # A node name of its own: workers on one host must each answer the count of processes.
    argv.append(f"--hostname=dialer-{uuid.uuid4().hex[:8]}@%h")
    argv.append(f"--concurrency={concurrency or os.cpu_count() or 2}")
    app.worker_main(argv)
