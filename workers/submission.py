"""Handing a campaign to the cluster: how many workers listen, and the first shift per slot.
`CelerySubmission` is the campaign service's `Submission` (campaigns/service/): the service
knows nothing of Celery."""

from __future__ import annotations

from dataclasses import dataclass

from celery import Celery

from campaigns.backends import Services
from dialer.keys import RedisKeys
from dialer.leases import Leases
from workers.app import make_app
from workers.tasks import send_shift, start_slots

PING_TIMEOUT_S = 2.0
DEFAULT_SLOTS = 2


@dataclass(frozen=True)
class Submitted:
    worker_processes: int  # 0: nobody is consuming the queue right now
    slots: int


def worker_processes(app: Celery, timeout_s: float = PING_TIMEOUT_S) -> int:
    """Processes of every worker that answers within `timeout_s` (0 when none does)."""
    stats = app.control.inspect(timeout=timeout_s).stats() or {}
    total = 0
    for worker in stats.values():
        pool = worker.get("pool", {}) if isinstance(worker, dict) else {}
        total += int(pool.get("max-concurrency", 1) or 1)
    return total


def submit_campaign(
    services: Services, campaign_id: str, keys: RedisKeys | None = None
) -> Submitted:
    assert services.redis is not None, "submit_campaign is for the cluster mode"
    app = make_app(services.settings)
    processes = worker_processes(app)
    slots = max(processes, DEFAULT_SLOTS)
    meta = services.store.get_campaign(campaign_id)
    settings = dict(meta.settings) if meta else {}
    settings["slots"] = slots
    services.store.update_campaign(campaign_id, settings=settings)

    def enqueue(cid: str, slot: int, task_id: str) -> None:
        send_shift(app, cid, slot, task_id)

    start_slots(Leases(services.redis), keys or RedisKeys(), campaign_id, slots, enqueue)
    return Submitted(processes, slots)


def workers_listening(services: Services) -> bool:
    return worker_processes(make_app(services.settings)) > 0


class CelerySubmission:
    """The campaign service's way to the workers (campaigns.service.Submission)."""

    def __init__(self, keys: RedisKeys | None = None) -> None:
        self._keys = keys

    def submit(self, services: Services, campaign_id: str) -> int:
        return submit_campaign(services, campaign_id, self._keys).worker_processes

    def workers_listening(self, services: Services) -> bool:
        return workers_listening(services)

    def outage_errors(self) -> tuple[type[BaseException], ...]:
        from kombu.exceptions import OperationalError

        return (OperationalError,)
