"""Campaigns: the list, one campaign's page (live progress, Stop, Resume, its rows), the JSON
its page polls, and the report downloads."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from campaigns.report.rows import ReportRow, report_rows
from campaigns.service import NO_WORKERS
from campaigns.store.rows import CampaignMeta, RowStatus, RowStore
from dialer.clock import Clock
from dialer.errors import CampaignNotFound, DialerError
from dialer.web.gate import Gate
from dialer.web.progress import SHOWN_STATUSES, RateMeter, Snapshot, snapshot
from dialer.web.reports import report_download
from dialer.web.runs import CampaignRuns, Notice
from dialer.web.sessions import Session
from dialer.web.templating import Pages
from dialer.web.uploads import UploadFolder

ROWS_PER_PAGE = 50
_PAGE_NUMBER = re.compile(r"[0-9]{1,7}")
_MAX_STATUS_CHARS = 40
STOPPING = "stopping"  # the notice after Stop
NOTICES = {
    Notice.STARTED.value: "Started. Calls go out at the pace below; this page follows them.",
    Notice.RESUMED.value: "Resumed. Rows already called are not called again.",
    Notice.ALREADY_RUNNING.value: "This campaign was running already: nothing was started twice.",
    Notice.NO_WORKERS.value: NO_WORKERS,
    STOPPING: "Stopping: no new calls; live calls are followed to their end.",
}


@dataclass(frozen=True)
class ListedCampaign:
    meta: CampaignMeta
    list_name: str
    counts: dict[str, int]


@dataclass(frozen=True)
class RowsPage:
    rows: list[tuple[int, ReportRow]]  # with each row's number, as in the spreadsheet
    page: int
    has_next: bool
    status: str  # the status filter, "" for every row


class CampaignPages:
    def __init__(
        self,
        gate: Gate,
        pages: Pages,
        runs: CampaignRuns,
        store: RowStore,
        uploads: UploadFolder,
        clock: Clock,
        home: Path,
        sweep: Callable[[], object] = lambda: None,
    ) -> None:
        self._gate = gate
        self._pages = pages
        self._runs = runs
        self._store = store
        self._uploads = uploads
        self._clock = clock
        self._home = home
        self._sweep = sweep  # what finished campaigns leave behind: run when they are listed
        self._meter = RateMeter()

    def routes(self) -> list[BaseRoute]:
        gate = self._gate
        return [
            Route("/", gate.page(self.home), methods=["GET"]),
            Route("/campaigns", gate.page(self.campaign_list), methods=["GET"]),
            Route("/campaigns/{cid}", gate.page(self.campaign), methods=["GET"]),
            Route("/campaigns/{cid}/progress", gate.data(self.progress), methods=["GET"]),
            Route("/campaigns/{cid}/rows", gate.data(self.rows), methods=["GET"]),
            Route("/campaigns/{cid}/stop", gate.form(self.stop), methods=["POST"]),
            Route("/campaigns/{cid}/resume", gate.form(self.resume), methods=["POST"]),
            Route("/campaigns/{cid}/report.csv", gate.page(self.report_csv), methods=["GET"]),
            Route("/campaigns/{cid}/report.xlsx", gate.page(self.report_xlsx), methods=["GET"]),
        ]

    async def home(self, request: Request, session: Session) -> Response:
        return RedirectResponse("/campaigns", status_code=303)

    async def campaign_list(self, request: Request, session: Session) -> Response:
        listed = await run_in_threadpool(self._listed)
        return self._pages.html("campaigns.html", session, campaigns=listed)

    def _listed(self) -> list[ListedCampaign]:
        self._sweep()
        metas = sorted(self._store.list_campaigns(), key=lambda m: m.created_at, reverse=True)
        return [
            ListedCampaign(
                meta,
                self._list_name(meta),
                _ordered(self._store.counts(meta.campaign_id)),
            )
            for meta in metas
        ]

    def _list_name(self, meta: CampaignMeta) -> str:
        """The name the list was uploaded as, or the path `dialer run` was given."""
        return self._uploads.display_name_of(Path(meta.source)) or meta.source

    async def campaign(self, request: Request, session: Session) -> Response:
        cid = str(request.path_params["cid"])
        page, status = _rows_query(request)
        try:
            meta, progress, rows = await run_in_threadpool(self._campaign, cid, page, status)
        except CampaignNotFound as exc:
            return self._pages.error(session, 404, "No such campaign", str(exc), "/campaigns")
        return self._pages.html(
            "campaign.html",
            session,
            meta=meta,
            list_name=self._list_name(meta),
            progress=progress,
            shown_statuses=[str(s) for s in SHOWN_STATUSES],
            rows_page=rows,
            counts=progress.counts,
            notice=NOTICES.get(request.query_params.get("notice", ""), ""),
            cluster=self._runs.cluster,
            now_s=self._clock.now(),
        )

    def _campaign(
        self, cid: str, page: int, status: str
    ) -> tuple[CampaignMeta, Snapshot, RowsPage]:
        meta = self._runs.meta(cid)
        return meta, self._snapshot(meta), self._rows_page(meta, page, status)

    def _snapshot(self, meta: CampaignMeta) -> Snapshot:
        running_here = self._runs.is_running_here(meta.campaign_id)
        return snapshot(
            self._store,
            meta,
            self._meter,
            self._clock.now(),
            running_here=running_here,
            cluster=self._runs.cluster,
        )

    def _rows_page(self, meta: CampaignMeta, page: int, status: str) -> RowsPage:
        """One page of the rows as the report shows them now. Read by streaming past the rows
        before it: pages are for looking, the report is for all of them."""
        reported = report_rows(self._store.iter_rows(meta.campaign_id), meta.state)
        rows: Iterator[tuple[int, ReportRow]] = enumerate(reported, start=2)  # header: row 1
        if status:
            rows = ((number, row) for number, row in rows if row.status == status)
        start = (page - 1) * ROWS_PER_PAGE
        chunk = list(islice(rows, start, start + ROWS_PER_PAGE + 1))
        return RowsPage(chunk[:ROWS_PER_PAGE], page, len(chunk) > ROWS_PER_PAGE, status)

    async def rows(self, request: Request, session: Session) -> Response:
        """The rows table alone, for the campaign page to refresh in place as rows change."""
        cid = str(request.path_params["cid"])
        page, status = _rows_query(request)
        try:
            meta = await run_in_threadpool(self._runs.meta, cid)
        except CampaignNotFound as exc:
            return JSONResponse({"error": str(exc)}, 404)
        rows = await run_in_threadpool(self._rows_page, meta, page, status)
        counts = await run_in_threadpool(self._store.counts, cid)
        return self._pages.html(
            "_rows.html", session, meta=meta, rows_page=rows, counts=_ordered(counts)
        )

    async def progress(self, request: Request, session: Session) -> Response:
        cid = str(request.path_params["cid"])
        try:
            meta = await run_in_threadpool(self._runs.meta, cid)
        except CampaignNotFound as exc:
            return JSONResponse({"error": str(exc)}, 404)
        current = await run_in_threadpool(self._snapshot, meta)
        return JSONResponse(current.to_json())

    async def stop(self, request: Request, session: Session, form: FormData) -> Response:
        cid = str(request.path_params["cid"])
        try:
            await run_in_threadpool(self._runs.stop, cid)
        except DialerError as exc:
            return self._not_done(session, cid, "Not stopped", exc)
        return RedirectResponse(f"/campaigns/{cid}?notice={STOPPING}", status_code=303)

    async def resume(self, request: Request, session: Session, form: FormData) -> Response:
        cid = str(request.path_params["cid"])
        try:
            started = await run_in_threadpool(self._runs.resume, cid)
        except DialerError as exc:
            return self._not_done(session, cid, "Not resumed", exc)
        url = f"/campaigns/{cid}?notice={started.notice.value}"
        return RedirectResponse(url, status_code=303)

    def _not_done(self, session: Session, cid: str, title: str, exc: DialerError) -> Response:
        status_code = 404 if isinstance(exc, CampaignNotFound) else 400
        if exc.exit_code != 2 and not isinstance(exc, CampaignNotFound):
            status_code = 502  # the API or the store failed, not the person
        return self._pages.error(session, status_code, title, str(exc), f"/campaigns/{cid}")

    async def report_csv(self, request: Request, session: Session) -> Response:
        return await self._report(request, session, ".csv")

    async def report_xlsx(self, request: Request, session: Session) -> Response:
        return await self._report(request, session, ".xlsx")

    async def _report(self, request: Request, session: Session, suffix: str) -> Response:
        cid = str(request.path_params["cid"])
        try:
            return await run_in_threadpool(report_download, self._store, cid, suffix, self._home)
        except CampaignNotFound as exc:
            return self._pages.error(session, 404, "No such campaign", str(exc), "/campaigns")


def _ordered(counts: Mapping[RowStatus, int]) -> dict[str, int]:
    """Counts in the page's order of statuses (the chart's), the empty ones left out."""
    return {str(s): counts[s] for s in SHOWN_STATUSES if counts.get(s)}


def _rows_query(request: Request) -> tuple[int, str]:
    """The rows page asked for, and the status filter ("" for every row)."""
    page = request.query_params.get("page", "1")
    number = int(page) if _PAGE_NUMBER.fullmatch(page) else 1  # ASCII digits: never '²'
    return max(number, 1), request.query_params.get("status", "")[:_MAX_STATUS_CHARS]
