"""The Celery app of the cluster mode.

`workers.celery` (the module-level app `celery -A workers` finds) is built by `create_app()` with
nothing read at import: the settings are read from the environment when Celery first configures
the app (`on_configure`: a worker starting, `celery -A workers inspect ...`), so importing the
package reads nothing and fails on nothing. `make_app(settings)` builds one over given settings
(the CLI's submissions, `dialer worker`).
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Callable
from typing import Any

from celery import Celery, signals
from celery.exceptions import CeleryCommandException
from celery.worker.consumer import Consumer
from kombu.entity import Queue

from dialer.errors import SettingsError
from dialer.logs import setup_logging
from dialer.settings import Settings
from workers.context import WorkerContext
from workers.tasks import DRIVE_TASK, register_tasks, revive_forever, send_shift

log = logging.getLogger(__name__)

# A task runs for one short shift (seconds); an unacked one is redelivered after this, which
# recovers the shifts of a worker that was killed. Redelivery is harmless: the row store, not
# the broker, decides who dials.
VISIBILITY_TIMEOUT_S = 60
# A shift lasts ~5 s (campaigns.dialing.shift.ShiftPlan). One still running at the soft limit is
# stuck (an API answer that never ends, say): SoftTimeLimitExceeded ends it, and `drive` hands its
# slot to the next shift as after any failure. The hard limit kills a process that ignores it.
# Both are under the visibility timeout, so a live shift is never redelivered beside itself.
SOFT_TIME_LIMIT_S = 30
TIME_LIMIT_S = 45
# After a broker outage Celery's consumer tries to reconnect at growing intervals (kombu's
# defaults: 2, 4, 6 ... up to 30 s apart; no Celery setting changes them), which would leave
# shifts untaken up to 30 s after Redis is back. A dialer worker tries every 2 s instead, as
# many times as Celery's default would in about 45 minutes, and then gives up as Celery does.
BROKER_RETRY_EVERY_S = 2.0
BROKER_RETRY_FOR_S = 45 * 60


def create_app(settings: Callable[[], Settings] = Settings.from_env) -> Celery:
    """A dialer app whose settings come from `settings()` when it is first configured."""
    app = DialerCelery(WorkerContext(settings))
    register_tasks(app, app.dialer_context)
    return app


class DialerCelery(Celery):  # type: ignore[misc]  # Celery is untyped
    """The dialer's app: configured from its context's settings when Celery first needs its
    configuration (a method, not the `on_configure` signal: a signal would swallow the error
    that says REDIS_URL is missing)."""

    def __init__(self, ctx: WorkerContext) -> None:
        super().__init__("dialer", set_as_current=False)
        self.dialer_context = ctx  # the worker's hooks below find it there

    def on_configure(self) -> None:
        settings = self.dialer_context.settings
        if settings.log_format == "json" and not logging.getLogger().handlers:
            # `celery worker` warns (running as root, say) before it sets up logging: those
            # lines are JSON too. The worker's own setup (below) then sets the level.
            setup_logging(logging.WARNING, "json", _secrets(settings))
        try:
            config = celery_config(settings)
        except SettingsError as exc:
            # Celery's command line shows a ClickException as one line and its exit code, where
            # any other error is a traceback; outside the command line it is still an error.
            raise CeleryCommandException(message=str(exc), exit_code=2) from exc
        # a source read by Celery's own loading (conf.update here would re-enter it)
        self.config_from_object(config)


def make_app(settings: Settings) -> Celery:
    if settings.redis_url is None:
        raise ValueError("the cluster mode needs REDIS_URL")
    return create_app(lambda: settings)


def celery_config(settings: Settings) -> dict[str, Any]:
    """Celery's settings for the dialer, every choice explained."""
    if settings.redis_url is None:
        raise SettingsError(
            "REDIS_URL is not set: the workers' app needs the cluster's Redis, e.g. "
            "export REDIS_URL=redis://127.0.0.1:6379/0"
        )
    queue = settings.shift_queue
    return dict(
        broker_url=settings.redis_url,
        broker_connection_retry_on_startup=True,
        worker_consumer=f"{__name__}:DialerConsumer",
        broker_connection_max_retries=int(BROKER_RETRY_FOR_S / BROKER_RETRY_EVERY_S),
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_S},
        task_serializer="json",
        accept_content=["json"],
        # Shifts return nothing anyone reads: the store holds every outcome.
        task_ignore_result=True,
        # One queue for shifts, named in the settings (DIALER_SHIFT_QUEUE): a worker consumes
        # it by default, and a deployment can give the dialer a queue of its own.
        task_default_queue=queue,
        task_queues=(Queue(queue),),  # type: ignore[no-untyped-call]
        task_routes={DRIVE_TASK: {"queue": queue}},
        # A shift is idempotent (leases in the store decide who dials), so the docs' advice for
        # such tasks: acknowledge after it ran, and requeue it when its process dies mid-way.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # One message reserved per process: a busy process never sits on another's shift.
        worker_prefetch_multiplier=1,
        task_soft_time_limit=SOFT_TIME_LIMIT_S,
        task_time_limit=TIME_LIMIT_S,
        # No broker-level retries: a failed shift is already followed by the next one in its
        # slot (`drive` hands over in `finally`), and a lost one by the dispatcher's restart.
        task_annotations={DRIVE_TASK: {"max_retries": 0}},
        # Events for `celery events` and Flower (the shifts as they are sent and run).
        worker_send_task_events=True,
        task_send_sent_event=True,
        worker_hijack_root_logger=False,
    )


class DialerConsumer(Consumer):  # type: ignore[misc]  # Celery is untyped
    """Celery's consumer, reconnecting to the broker every BROKER_RETRY_EVERY_S."""

    def ensure_connected(self, conn: Any) -> Any:
        connect = conn.ensure_connection

        def steadily(*args: Any, **kwargs: Any) -> Any:
            every_s = BROKER_RETRY_EVERY_S
            return connect(*args, interval_start=every_s, interval_step=0,
                           interval_max=every_s, **kwargs)  # fmt: skip

        conn.ensure_connection = steadily
        return super().ensure_connected(conn)


def _start_reviver(app: Celery, ctx: WorkerContext) -> None:
    """A thread of the worker's main process revives campaigns whose shifts all died
    (workers.tasks.revive): a Redis outage, every worker killed."""

    def enqueue(campaign_id: str, slot: int, task_id: str) -> None:
        send_shift(app, campaign_id, slot, task_id)

    thread = threading.Thread(
        target=revive_forever,
        args=(ctx, enqueue, threading.Event()),
        name="dialer-reviver",
        daemon=True,
    )
    thread.start()


def run_worker(settings: Settings, *, concurrency: int | None, loglevel: str) -> None:
    """`dialer worker`: the same worker as `celery -A workers worker`, over `settings`."""
    app = make_app(settings)
    # JSON logs are for log shippers: no banner (Celery's --quiet) among them
    argv: list[Any] = ["--quiet"] if settings.log_format == "json" else []
    argv += ["worker", f"--loglevel={loglevel}", "--without-gossip", "--without-mingle"]
    # A node name of its own: workers on one host must each answer the count of processes.
    argv.append(f"--hostname=dialer-{uuid.uuid4().hex[:8]}@%h")
    argv.append(f"--concurrency={concurrency or os.cpu_count() or 2}")
    app.worker_main(argv)


# --- the worker's lifecycle: logging, and the metrics port (only for dialer apps) ---


def _context_of(app: Any) -> WorkerContext | None:
    return app.dialer_context if isinstance(app, DialerCelery) else None


@signals.setup_logging.connect  # type: ignore[untyped-decorator]
def _setup_logging(loglevel: int | str | None = None, **_: Any) -> None:
    """Our handler instead of Celery's: the same lines as the dialer's, JSON when asked, the
    API key redacted. (A receiver here means Celery configures no logging of its own.)"""
    settings = Settings.from_env()
    setup_logging(loglevel or logging.INFO, settings.log_format, _secrets(settings))


def _secrets(settings: Settings) -> list[str]:
    return [s.reveal() for s in (settings.api_key, settings.webhook_secret, settings.ui_token)]


@signals.worker_init.connect  # type: ignore[untyped-decorator]
def _worker_init(sender: Any = None, **_: Any) -> None:
    ctx = _context_of(getattr(sender, "app", None))
    if ctx is not None and ctx.settings.metrics_port is not None:
        from campaigns.report.exposition import prepare_multiprocess
        from dialer.metrics import MULTIPROC_ENV

        # before the pool forks and before prometheus_client is imported (it picks its mode
        # at import): every pool process then writes its counters where the port reads them
        prepare_multiprocess(os.environ.get(MULTIPROC_ENV))


@signals.worker_ready.connect  # type: ignore[untyped-decorator]
def _worker_ready(sender: Any = None, **_: Any) -> None:
    app = getattr(sender, "app", None)
    ctx = _context_of(app)
    if ctx is None:
        return
    _start_reviver(app, ctx)
    port = ctx.settings.metrics_port
    if port is None:
        return
    from campaigns.report.exposition import StoreCollector, exposition_registry, serve_metrics

    registry = exposition_registry(None, [StoreCollector(lambda: ctx.services.store, ctx.clock)])
    try:
        serve_metrics(registry, port)
    except OSError as exc:  # the worker still works; say what to change
        log.error(
            "metrics off: port %d cannot be used (%s); set another DIALER_METRICS_PORT", port, exc
        )
        return
    log.info("metrics on port %d (/metrics)", port, extra={"event": "metrics_listening"})


@signals.worker_process_shutdown.connect  # type: ignore[untyped-decorator]
def _process_shutdown(pid: int | None = None, **_: Any) -> None:
    from campaigns.report.exposition import mark_process_dead

    mark_process_dead(pid or os.getpid())
