"""Who is consuming the shifts' queue, from Celery's own inspect (one broadcast each)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from dialer.settings import Settings
from workers.app import make_app

INSPECT_TIMEOUT_S = 1.0  # every worker answers within milliseconds; inspect waits it out


@dataclass(frozen=True)
class WorkerView:
    name: str  # the Celery node name, e.g. celery@host
    processes: int  # the pool's size
    queues: list[str]
    shifts: list[dict[str, Any]] = field(default_factory=list)  # running now: campaign, slot

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def consuming_workers(settings: Settings, timeout_s: float = INSPECT_TIMEOUT_S) -> list[WorkerView]:
    """The workers that answer within `timeout_s` and consume the shifts' queue."""
    app = make_app(settings)
    inspect = app.control.inspect(timeout=timeout_s)
    queues = inspect.active_queues() or {}
    consuming = {n: q for n, q in queues.items() if _names(q) and settings.shift_queue in _names(q)}
    if not consuming:
        return []
    stats = inspect.stats() or {}
    active = inspect.active() or {}
    views = []
    for name in sorted(consuming):
        pool = (stats.get(name) or {}).get("pool", {})
        views.append(
            WorkerView(
                name=name,
                processes=int(pool.get("max-concurrency", 0) or 0),
                queues=sorted(_names(consuming[name])),
                shifts=[_shift(task) for task in active.get(name) or []],
            )
        )
    return views


def _names(queues: Any) -> set[str]:
    return {str(q.get("name")) for q in queues or [] if isinstance(q, dict)}


def _shift(task: dict[str, Any]) -> dict[str, Any]:
    kwargs = task.get("kwargs") or {}
    args = task.get("args") or []
    campaign = kwargs.get("campaign_id", args[0] if args else None)
    slot = kwargs.get("slot", args[1] if len(args) > 1 else None)
    return {"task": task.get("name"), "campaign": campaign, "slot": slot}
