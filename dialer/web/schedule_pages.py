"""The Schedules page (`dialer serve --schedule FILE`, or DIALER_SCHEDULE_FILE): each campaign of
the file with its next and past runs, an export of a date range, and a button that starts
today's run now. Through the same gate as every page: signed in, CSRF on the form, escaped.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from campaigns.schedule.export import find_runs, write_export
from campaigns.schedule.schedule_file import ScheduleFile
from campaigns.store.rows import RowStore
from dialer.clock import Clock
from dialer.errors import CampaignNotFound, DialerError, InputError
from dialer.run_claims import RunClaims
from dialer.web.gate import Gate
from dialer.web.progress import SHOWN_STATUSES
from dialer.web.reports import MEDIA_TYPES, TMP_FOLDER
from dialer.web.schedule_view import CampaignView, TodayStarter, campaign_views
from dialer.web.sessions import Session
from dialer.web.templating import Pages

SCHEDULES_PATH = "/schedules"
MAX_EXPORT_DAYS = 366  # bounded work: a year of runs at most per download
EXPORT_FORMATS = {"csv": ".csv", "xlsx": ".xlsx"}


class SchedulePages:
    def __init__(
        self,
        gate: Gate,
        pages: Pages,
        file: ScheduleFile,
        store: RowStore,
        starter: TodayStarter,
        claims: RunClaims | None,
        clock: Clock,
        home: Path,
    ) -> None:
        self._gate = gate
        self._pages = pages
        self._file = file
        self._store = store
        self._starter = starter
        self._claims = claims
        self._clock = clock
        self._home = home

    def routes(self) -> list[BaseRoute]:
        gate = self._gate
        return [
            Route(SCHEDULES_PATH, gate.page(self.schedules), methods=["GET"]),
            Route(f"{SCHEDULES_PATH}/{{name}}/export", gate.page(self.export), methods=["GET"]),
            Route(f"{SCHEDULES_PATH}/{{name}}/start", gate.form(self.start), methods=["POST"]),
        ]

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.now(), UTC)

    async def schedules(self, request: Request, session: Session) -> Response:
        views = await run_in_threadpool(self._views)
        return self._pages.html(
            "schedules.html",
            session,
            file_path=str(self._file.path),
            campaigns=views,
            notice=request.query_params.get("started", ""),
            max_export_days=MAX_EXPORT_DAYS,
        )

    def _views(self) -> list[CampaignView]:
        return campaign_views(self._file, self._store, self._claims, self._now(), self._counts)

    def _counts(self, cid: str) -> dict[str, int]:
        counts = self._store.counts(cid)
        return {str(s): counts[s] for s in SHOWN_STATUSES if counts.get(s)}

    async def start(self, request: Request, session: Session, form: FormData) -> Response:
        name = str(request.path_params["name"])
        try:
            cid = await run_in_threadpool(self._starter.start, name, self._now())
        except DialerError as exc:
            status_code = 400 if exc.exit_code == 2 else 502
            return self._pages.error(session, status_code, "Not started", str(exc), SCHEDULES_PATH)
        return RedirectResponse(f"/campaigns/{cid}?notice=started", status_code=303)

    async def export(self, request: Request, session: Session) -> Response:
        name = str(request.path_params["name"])
        try:
            self._file.campaign(name)
            since, until, suffix = _export_query(request)
            return await run_in_threadpool(self._export_file, name, since, until, suffix)
        except (InputError, CampaignNotFound) as exc:
            return self._pages.error(session, 400, "No export", str(exc), SCHEDULES_PATH)

    def _export_file(self, name: str, since: date, until: date, suffix: str) -> FileResponse:
        runs = find_runs(self._store, name, since, until)
        if not runs:
            raise InputError(
                f"{name} has no run from {since.isoformat()} to {until.isoformat()}: "
                "choose dates on which it ran (its past runs are listed on this page)."
            )
        root = self._home / TMP_FOLDER
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        folder = Path(tempfile.mkdtemp(prefix="export-", dir=root))
        try:
            path = folder / f"{name}-{since.isoformat()}-to-{until.isoformat()}{suffix}"
            write_export(self._store, name, runs, path)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return FileResponse(
            path,
            media_type=MEDIA_TYPES[suffix],
            filename=path.name,  # a campaign name and dates: letters, digits, '.', '_', '-'
            background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
        )


def _export_query(request: Request) -> tuple[date, date, str]:
    """The form's dates and format, or an InputError naming the field and what to do."""
    params = request.query_params
    since = _day(params.get("since", ""), "From")
    until = _day(params.get("until", "") or since.isoformat(), "To")
    if until < since:
        raise InputError("'To' is before 'From': choose a To date on or after the From date.")
    if until - since >= timedelta(days=MAX_EXPORT_DAYS):
        raise InputError(f"Export at most {MAX_EXPORT_DAYS} days at a time: narrow the dates.")
    fmt = params.get("format", "xlsx")
    if fmt not in EXPORT_FORMATS:
        raise InputError("Format: choose CSV or XLSX.")
    return since, until, EXPORT_FORMATS[fmt]


def _day(text: str, field: str) -> date:
    message = f"'{field}' must be a date written YYYY-MM-DD: pick one."
    if len(text) != 10:  # read nothing longer: a date is ten characters
        raise InputError(message)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(message) from None
