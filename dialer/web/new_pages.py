"""New campaign: upload a list and choose options, read the plan, press Start.

Nothing is dialed before Start: the upload makes a draft (the file and the options), the plan
page is the dry run of that draft, and Start, a separate POST, is what creates the campaign.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from dialer.clock import Clock
from dialer.errors import DialerError, InputError
from dialer.settings import Settings
from dialer.web.agents import AgentDirectory
from dialer.web.drafts import REDIAL_FIELDS, Draft, DraftFolder, DraftOptions
from dialer.web.failures import scrub
from dialer.web.gate import Gate
from dialer.web.leftovers import sweep
from dialer.web.plan_child import Planner
from dialer.web.planning import INVALID_SHOWN, invalid_rows, open_draft_list
from dialer.web.recall import HistorySource
from dialer.web.runs import CampaignRuns, Started, StartRequest
from dialer.web.sessions import Session
from dialer.web.templating import Pages
from dialer.web.uploads import StoredFile, UploadFolder

FORM_OVERHEAD_BYTES = 64 * 1024  # the fields and multipart framing around the files
MAX_FIELD_CHARS = 200
# Under every reason a list cannot be used: some reasons (a reader's limit) say only what is wrong.
LIST_ADVICE = (
    "To go on: correct the file and upload it again, or open it in a spreadsheet, save it as "
    "CSV (UTF-8) and upload that."
)
ACCEPTED_FILES = ".csv,.txt,.tsv,.xlsx,text/csv"


class NewCampaignPages:
    def __init__(
        self,
        gate: Gate,
        pages: Pages,
        drafts: DraftFolder,
        uploads: UploadFolder,
        agents: AgentDirectory,
        runs: CampaignRuns,
        settings: Settings,
        clock: Clock,
        history: HistorySource,  # where the plan's child reads the contact history
    ) -> None:
        self._gate = gate
        self._pages = pages
        self._drafts = drafts
        self._uploads = uploads
        self._agents = agents
        self._runs = runs
        self._settings = settings
        self._clock = clock
        self._max_upload_bytes = int(settings.ui_max_upload_mb * (1 << 20))
        self._planner = Planner(settings, history)

    def routes(self) -> list[BaseRoute]:
        gate = self._gate
        upload = gate.form(
            self.upload,
            max_body_bytes=self._max_upload_bytes + FORM_OVERHEAD_BYTES,
            too_large=self._too_large_message(),
        )
        return [
            Route("/new", gate.page(self.new_form), methods=["GET"]),
            Route("/new", upload, methods=["POST"]),
            Route("/plans/{draft_id}", gate.page(self.plan), methods=["GET"]),
            Route("/plans/{draft_id}/invalid", gate.page(self.all_invalid), methods=["GET"]),
            Route("/plans/{draft_id}/start", gate.form(self.start), methods=["POST"]),
        ]

    def _too_large_message(self) -> str:
        return (
            f"The upload is larger than {self._settings.ui_max_upload_mb:g} MB, the most this "
            "server takes: split the list into smaller files, or raise DIALER_UI_MAX_UPLOAD_MB "
            "where `dialer serve` runs and restart it."
        )

    async def new_form(self, request: Request, session: Session) -> Response:
        return await self._form_page(session, DraftOptions(), "", 200)

    async def _form_page(
        self, session: Session, options: DraftOptions, error: str, status_code: int
    ) -> Response:
        choice = await run_in_threadpool(self._agents.choice)
        return self._pages.html(
            "new.html",
            session,
            status_code,
            options=options,
            agents=choice.agents,
            agents_error=choice.error,
            redial_fields=REDIAL_FIELDS,
            error=error,
            max_upload_bytes=self._max_upload_bytes,
            max_upload_mb=self._settings.ui_max_upload_mb,
            accepted=ACCEPTED_FILES,
        )

    async def upload(self, request: Request, session: Session, form: FormData) -> Response:
        options = options_from_form(form)
        contacts, suppression = _file(form, "contacts"), _file(form, "suppression")
        try:
            if contacts is None:
                raise InputError("Choose the contact list: a .csv or .xlsx file.")
            options.policy(self._settings)  # a wrong option is said now, not after planning
            options.chosen_campaign_id()
        except InputError as exc:
            return await self._form_page(session, options, str(exc), 400)
        draft = await run_in_threadpool(self._save_draft, contacts, suppression, options)
        await run_in_threadpool(self._sweep)
        return RedirectResponse(f"/plans/{draft.draft_id}", status_code=303)

    def _save_draft(
        self, contacts: UploadFile, suppression: UploadFile | None, options: DraftOptions
    ) -> Draft:
        stored = self._store(contacts)
        return self._drafts.save(stored, self._store(suppression) if suppression else None, options)

    def _store(self, upload: UploadFile) -> StoredFile:
        return self._uploads.save(upload.file, upload.filename or "upload")

    async def plan(self, request: Request, session: Session) -> Response:
        draft = self._draft_or_none(request)
        if draft is None:
            return self._gone(session)
        try:  # in a child process: a list built to be slow or huge cannot hang the server
            view, campaign_id = await self._planner.plan(draft, self._clock.now())
        except InputError as exc:
            message = self._scrub(str(exc), draft)
            title = "This list cannot be used"
            return self._pages.error(session, 400, title, message, "/new", LIST_ADVICE)
        await run_in_threadpool(self._drafts.mark_planned, draft)
        existing = await run_in_threadpool(self._runs.existing, campaign_id)
        return self._pages.html(
            "plan.html",
            session,
            draft=draft,
            view=view,
            campaign_id=campaign_id,
            existing=existing,
            invalid_shown=INVALID_SHOWN,
        )

    def _sweep(self) -> None:
        sweep(self._drafts, self._runs.store, self._settings.home, self._clock.now())

    def _scrub(self, message: str, draft: Draft) -> str:
        """The message with the stored files named as the person uploaded them."""
        known = [(draft.contacts.path, draft.contacts.display_name)]
        if draft.suppression is not None:
            known.append((draft.suppression.path, draft.suppression.display_name))
        return scrub(message, self._settings.home, *known)

    def _unplanned(self, draft: Draft) -> Response:
        """Only a list whose plan read it within the deadline is read again in this process."""
        return RedirectResponse(f"/plans/{draft.draft_id}", status_code=303)

    async def all_invalid(self, request: Request, session: Session) -> Response:
        draft = self._draft_or_none(request)
        if draft is None:
            return self._gone(session)
        if not self._drafts.is_planned(draft):
            return self._unplanned(draft)
        headers = await run_in_threadpool(lambda: open_draft_list(draft).headers)
        return StreamingResponse(
            self._pages.stream(
                "invalid.html", session, draft=draft, headers=headers, rows=invalid_rows(draft)
            ),
            media_type="text/html; charset=utf-8",
        )

    async def start(self, request: Request, session: Session, form: FormData) -> Response:
        draft = self._draft_or_none(request)
        if draft is None:
            return self._gone(session)
        if not self._drafts.is_planned(draft):
            return self._unplanned(draft)
        try:
            started = await run_in_threadpool(self._start, draft)
        except DialerError as exc:
            status_code = 400 if exc.exit_code == 2 else 502
            back = f"/plans/{draft.draft_id}"
            message = self._scrub(str(exc), draft)
            return self._pages.error(session, status_code, "Not started", message, back)
        await run_in_threadpool(self._drafts.mark_started, draft, started.campaign_id)
        url = f"/campaigns/{started.campaign_id}?notice={started.notice.value}"
        return RedirectResponse(url, status_code=303)

    def _start(self, draft: Draft) -> Started:
        request = StartRequest(
            contacts=open_draft_list(draft),
            display_name=draft.contacts.display_name,
            policy=draft.options.policy(self._settings),
            campaign_id=draft.options.chosen_campaign_id(),
        )
        return self._runs.start(request)

    def _draft_or_none(self, request: Request) -> Draft | None:
        try:
            return self._drafts.get(str(request.path_params["draft_id"]))
        except InputError:
            return None

    def _gone(self, session: Session) -> Response:
        message = "This plan is gone (or the link is wrong): upload the list again."
        return self._pages.error(session, 404, "No such plan", message, "/new")


def options_from_form(form: FormData) -> DraftOptions:
    def text(name: str, default: str = "") -> str:
        value = form.get(name)
        return value.strip()[:MAX_FIELD_CHARS] if isinstance(value, str) else default

    defaults = DraftOptions()
    return DraftOptions(
        agent_id=text("agent_id"),
        rate=text("rate"),
        max_active=text("max_active", defaults.max_active),
        window=text("window", defaults.window) or defaults.window,
        redial={status: text(f"redial_{status}", "0") for status in REDIAL_FIELDS},
        redial_after=text("redial_after", defaults.redial_after) or defaults.redial_after,
        region=text("region", defaults.region) or defaults.region,
        phone_column=text("phone_column"),
        campaign_id=text("campaign_id"),
        recall_after=text("recall_after", defaults.recall_after) or defaults.recall_after,
    )


def _file(form: FormData, name: str) -> UploadFile | None:
    value = form.get(name)
    # A file input left empty still arrives, as a part with no file name.
    return value if isinstance(value, UploadFile) and value.filename else None
