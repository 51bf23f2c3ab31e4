"""The Schedules page's parts put together from the page's dependencies (dialer/web/app.py)."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

from dialer.run_claims import RedisRunClaims, RunClaims
from dialer.web.gate import Gate
from dialer.web.schedule_pages import SchedulePages
from dialer.web.schedule_view import TodayStarter
from dialer.web.templating import Pages

if TYPE_CHECKING:
    from dialer.web.app import UiDeps


def schedule_routes(deps: UiDeps, gate: Gate, pages: Pages) -> list[BaseRoute]:
    assert deps.schedule is not None
    services = deps.services
    claims: RunClaims | None = None
    if services.redis is not None:  # the beat's claims live in Redis: cluster mode only
        from dialer.keys import RedisKeys

        claims = RedisRunClaims(services.redis, RedisKeys(), f"web-{socket.gethostname()}")
    starter = TodayStarter(deps.schedule, services.store, deps.settings, claims, deps.runs.resume)
    return SchedulePages(
        gate, pages, deps.schedule, services.store, starter, claims, deps.clock, deps.settings.home
    ).routes()
