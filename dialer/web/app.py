"""The web page as a Starlette app, and the one ASGI app `dialer serve` runs.

`create_ui_app` builds the page from what it is given (settings, the process's services, the
campaign runs, a clock); nothing is read from globals, so tests build it over a temporary state
folder and a simulator. `create_serve_app` puts it behind the webhook receiver's routes: the
receiver keeps its paths (`/webhooks/voxpria`, `/healthz`) and everything else is the page.
Either part may be off: without DIALER_UI_TOKEN the page says how to turn it on; without
VOXPRIA_WEBHOOK_SECRET the receiver answers 503 (Voxpria delivers again later).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from campaigns.backends import Services
from campaigns.schedule.schedule_file import ScheduleFile, load_schedule_file
from dialer.clock import Clock
from dialer.metrics import NO_METRICS, Recorder
from dialer.receiver import HEALTH_PATH, WEBHOOK_PATH, create_webhook_app
from dialer.settings import Settings
from dialer.voxpria.models import Agent
from dialer.voxpria.signatures import SignatureVerifier
from dialer.web.agents import AgentDirectory
from dialer.web.auth_pages import AuthPages
from dialer.web.campaign_pages import CampaignPages
from dialer.web.dnc_pages import DncPages
from dialer.web.drafts import DRAFTS_FOLDER, DraftFolder
from dialer.web.failures import error_handlers
from dialer.web.gate import Gate, StrictHeaders
from dialer.web.leftovers import sweep
from dialer.web.new_pages import NewCampaignPages
from dialer.web.recall import HistorySource
from dialer.web.runs import CampaignRuns
from dialer.web.schedule_routes import schedule_routes
from dialer.web.sessions import SessionCodec
from dialer.web.sign_in_limits import SignInLimiter, SignInLimits
from dialer.web.templating import Pages, template_environment
from dialer.web.uploads import UPLOADS_FOLDER, UploadFolder

STATIC_FOLDER = Path(__file__).parent / "static"
FAILED_SIGN_IN_DELAY_S = 0.5
DEFAULT_SIGN_IN_LIMITS = SignInLimits()
RECEIVER_OFF = (
    "The webhook receiver is off: set VOXPRIA_WEBHOOK_SECRET where `dialer serve` runs and "
    "restart it."
)


@dataclass(frozen=True)
class UiDeps:
    settings: Settings
    services: Services
    runs: CampaignRuns
    agents: AgentDirectory
    clock: Clock
    failed_sign_in_delay_s: float = FAILED_SIGN_IN_DELAY_S
    sign_in_limits: SignInLimits = DEFAULT_SIGN_IN_LIMITS
    schedule: ScheduleFile | None = None  # the Schedules page's campaign file


def create_ui_app(deps: UiDeps) -> Starlette:
    """The page, for a process with DIALER_UI_TOKEN set."""
    settings = deps.settings
    if not settings.ui_token:
        raise ValueError("create_ui_app needs settings.ui_token; use create_ui_off_app")
    env = template_environment()
    env.globals["schedules_on"] = deps.schedule is not None  # the Schedules link in the menu
    pages = Pages(env)
    gate = Gate(SessionCodec(settings.ui_token, settings.home, deps.clock), pages)
    limiter = SignInLimiter(deps.sign_in_limits, deps.clock)
    uploads = UploadFolder(settings.home / UPLOADS_FOLDER)
    drafts = DraftFolder(settings.home / DRAFTS_FOLDER, uploads)
    store = deps.services.store

    def sweep_now() -> int:
        return sweep(drafts, store, settings.home, deps.clock.now())

    routes: list[BaseRoute] = [
        Mount("/static", app=StaticFiles(directory=STATIC_FOLDER), name="static"),
        *AuthPages(gate, pages, limiter, deps.failed_sign_in_delay_s).routes(),
        *NewCampaignPages(
            gate, pages, drafts, uploads, deps.agents, deps.runs, settings, deps.clock,
            HistorySource.of(deps.services),
        ).routes(),
        *CampaignPages(
            gate, pages, deps.runs, store, uploads, deps.clock, settings.home, sweep_now
        ).routes(),
        *DncPages(
            gate, pages, store, uploads, deps.clock, settings.home, settings.ui_max_upload_mb
        ).routes(),
        *(schedule_routes(deps, gate, pages) if deps.schedule is not None else []),
    ]
    sweep_now()  # what a previous server left behind
    return Starlette(
        routes=routes,
        middleware=[Middleware(StrictHeaders)],
        exception_handlers=error_handlers(pages, settings.home),
    )


def create_ui_off_app() -> Starlette:
    """Without a token there is no page: `/` says how to turn it on, other paths are 404."""
    pages = Pages(template_environment())

    async def off(request: Request) -> Response:
        status_code = 200 if request.url.path == "/" else 404
        return pages.html("ui_off.html", None, status_code)

    routes: list[BaseRoute] = [
        Mount("/static", app=StaticFiles(directory=STATIC_FOLDER), name="static"),
        Route("/{path:path}", off, methods=["GET", "HEAD", "POST"]),
    ]
    return Starlette(routes=routes, middleware=[Middleware(StrictHeaders)])


def create_serve_app(webhook_app: Starlette | None, ui_app: Starlette) -> Starlette:
    """One ASGI app: the receiver's routes first (or a 503 in their place), then the page."""
    if webhook_app is not None:
        receiver: list[BaseRoute] = list(webhook_app.routes)
    else:
        receiver = [
            Route(WEBHOOK_PATH, _receiver_off, methods=["POST"]),
            Route(HEALTH_PATH, _healthz, methods=["GET"]),
        ]
    return Starlette(routes=[*receiver, Mount("", app=ui_app)])


async def _receiver_off(request: Request) -> Response:
    # 503: Voxpria delivers again later, by which time the secret may be set.
    return JSONResponse({"received": False, "error": RECEIVER_OFF}, 503)


async def _healthz(request: Request) -> Response:
    return JSONResponse({"ok": True})


@dataclass(frozen=True)
class Served:
    app: Starlette
    runs: CampaignRuns  # to stop on shutdown


def build_serve_app(
    settings: Settings,
    services: Services,
    clock: Clock,
    *,
    failed_sign_in_delay_s: float = FAILED_SIGN_IN_DELAY_S,
    metrics: Recorder = NO_METRICS,
    sign_in_limits: SignInLimits = DEFAULT_SIGN_IN_LIMITS,
) -> Served:
    """What `dialer serve` runs: the receiver when VOXPRIA_WEBHOOK_SECRET is set, the page when
    DIALER_UI_TOKEN is, both over the one store."""
    webhook_app = None
    if settings.webhook_secret:
        secret, tolerance_s = settings.webhook_secret, settings.webhook_tolerance_s
        verifier = SignatureVerifier(secret, tolerance_s, clock)
        webhook_app = create_webhook_app(services.store, verifier, clock, metrics=metrics)
    runs = CampaignRuns(services, clock)
    if not settings.ui_token:
        return Served(create_serve_app(webhook_app, create_ui_off_app()), runs)
    agents = AgentDirectory(lambda: _list_agents(services, clock), clock)
    schedule = load_schedule_file(settings.schedule_file) if settings.schedule_file else None
    deps = UiDeps(
        settings,
        services,
        runs,
        agents,
        clock,
        failed_sign_in_delay_s,
        sign_in_limits,
        schedule,
    )
    return Served(create_serve_app(webhook_app, create_ui_app(deps)), runs)


def _list_agents(services: Services, clock: Clock) -> list[Agent]:
    services.settings.require_api_key()
    with services.client(clock) as client:
        return client.list_agents()
