"""The Do not call page (/dnc): the store's do-not-call list (campaigns.store.dnc), the same list
`dialer dnc` keeps and every campaign checks at dial time.

It lists the newest entries (a search by number finds any other), adds one number with a
reason, removes one, and imports a file (one number per line, or a CSV/XLSX with a phone
column) capped like the contact lists' uploads. Numbers are read as the CLI reads them: E.164,
or written for the Region given on the form. Every form goes through the gate (signed in, same
site, CSRF, body cap); bad input is answered on the page with what to do, never a 500.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from campaigns.lists.phones import PhoneReader
from campaigns.lists.suppression import suppressed_numbers
from campaigns.lists.tables import open_table
from campaigns.store.dnc import DncEntry, clean_reason
from campaigns.store.rows import RowStore
from dialer.clock import Clock
from dialer.errors import InputError
from dialer.web.failures import scrub
from dialer.web.gate import Gate
from dialer.web.sessions import Session
from dialer.web.templating import Pages
from dialer.web.uploads import UploadFolder

DNC_PATH = "/dnc"
SHOWN_ENTRIES = 200  # the newest; a search by number finds any other
DEFAULT_REGION = "US"
FORM_OVERHEAD_BYTES = 64 * 1024  # the fields and multipart framing around the file
_MAX_FIELD_CHARS = 60  # a number, a query, a region: read no further
_FILE_ROLE = "do-not-call file"
_CLI_WORDS = (  # what the file readers say for the CLI, as this page says it
    ("suppression list (--suppress)", _FILE_ROLE),
    ("give the file's encoding with --encoding NAME, or save", "save"),
)
_DONE_CODES = ("added", "already", "removed", "missing", "imported")


@dataclass(frozen=True)
class DncForm:
    """What the add/remove/import forms sent, kept to show the form again with an error."""

    number: str = ""
    reason: str = ""
    region: str = DEFAULT_REGION

    @classmethod
    def of(cls, form: FormData) -> DncForm:
        def text(name: str, limit: int = _MAX_FIELD_CHARS) -> str:
            value = form.get(name)
            return value.strip()[:limit] if isinstance(value, str) else ""

        return cls(
            number=text("number"),
            reason=clean_reason(text("reason", 1000)),
            region=text("region").upper() or DEFAULT_REGION,
        )


class DncPages:
    def __init__(
        self,
        gate: Gate,
        pages: Pages,
        store: RowStore,
        uploads: UploadFolder,
        clock: Clock,
        home: Path,
        max_upload_mb: float,
    ) -> None:
        self._gate = gate
        self._pages = pages
        self._store = store
        self._uploads = uploads
        self._clock = clock
        self._home = home
        self._max_upload_mb = max_upload_mb

    def routes(self) -> list[BaseRoute]:
        gate = self._gate
        upload = gate.form(
            self.import_file,
            max_body_bytes=int(self._max_upload_mb * (1 << 20)) + FORM_OVERHEAD_BYTES,
            too_large=(
                f"The file is larger than {self._max_upload_mb:g} MB, the most this server "
                "takes: split it into smaller files and import each, or raise "
                "DIALER_UI_MAX_UPLOAD_MB where `dialer serve` runs and restart it."
            ),
            back_url=DNC_PATH,
        )
        return [
            Route(DNC_PATH, gate.page(self.listing), methods=["GET"]),
            Route(f"{DNC_PATH}/add", gate.form(self.add), methods=["POST"]),
            Route(f"{DNC_PATH}/remove", gate.form(self.remove), methods=["POST"]),
            Route(f"{DNC_PATH}/import", upload, methods=["POST"]),
        ]

    async def listing(self, request: Request, session: Session) -> Response:
        params = request.query_params
        query = params.get("q", "").strip()[:_MAX_FIELD_CHARS]
        region = params.get("region", "").strip()[:_MAX_FIELD_CHARS].upper() or DEFAULT_REGION
        notice = _notice(params.get("done", ""), query, params.get("n", ""), params.get("of", ""))
        return await self._page(
            session, 200, query=query, notice=notice, form=DncForm(region=region)
        )

    async def _page(
        self,
        session: Session,
        status_code: int,
        *,
        query: str = "",
        notice: str = "",
        error: str = "",
        form: DncForm | None = None,
    ) -> Response:
        form = form or DncForm()
        entries = await run_in_threadpool(self._store.dnc_entries)
        found = _search(entries, query, form.region)
        return self._pages.html(
            "dnc.html",
            session,
            status_code,
            query=query,
            notice=notice,
            error=error,
            form=form,
            total=len(entries),
            found=len(found),
            entries=found[:SHOWN_ENTRIES],
            shown_max=SHOWN_ENTRIES,
            max_upload_mb=self._max_upload_mb,
        )

    async def add(self, request: Request, session: Session, form: FormData) -> Response:
        fields = DncForm.of(form)
        try:
            number = _read_number(fields.number, fields.region, "add")
        except InputError as exc:
            return await self._page(session, 400, error=str(exc), form=fields)
        entry = DncEntry(number, fields.reason, self._clock.now())
        added = await run_in_threadpool(self._store.dnc_add, [entry])
        return _done("added" if added else "already", number, fields.region)

    async def remove(self, request: Request, session: Session, form: FormData) -> Response:
        fields = DncForm.of(form)
        try:
            number = _read_number(fields.number, fields.region, "remove")
        except InputError as exc:
            return await self._page(session, 400, error=str(exc), form=fields)
        removed = await run_in_threadpool(self._store.dnc_remove, [number])
        return _done("removed" if removed else "missing", number, fields.region)

    async def import_file(self, request: Request, session: Session, form: FormData) -> Response:
        fields = DncForm.of(form)
        upload = form.get("file")
        try:
            reader = _reader(fields.region)
            if not isinstance(upload, UploadFile) or not upload.filename:
                raise InputError("Choose a file to import: one number per line, or a CSV with "
                                 "a phone column.")  # fmt: skip
            numbers = await run_in_threadpool(self._numbers_of, upload, reader)
        except InputError as exc:
            return await self._page(session, 400, error=str(exc), form=fields)
        now = self._clock.now()
        entries = [DncEntry(n, fields.reason, now) for n in sorted(numbers)]
        added = await run_in_threadpool(self._store.dnc_add, entries)
        return _done("imported", "", fields.region, n=added, of=len(entries))

    def _numbers_of(self, upload: UploadFile, reader: PhoneReader) -> frozenset[str]:
        """The file's valid numbers, read as `dialer dnc import` reads them."""
        name = upload.filename or "upload"
        stored = self._uploads.save(upload.file, name)
        try:
            table = open_table(stored.path, _FILE_ROLE, allow_empty=True)
            records = (cells for _, cells in table.records())
            numbers = suppressed_numbers(stored.path, records, reader)
        except InputError as exc:
            message = _page_words(str(exc))
            raise InputError(scrub(message, self._home, (stored.path, name))) from None
        finally:
            self._uploads.discard(stored, keep_name=False)
        if not numbers:
            raise InputError(
                f"No phone number found in {name}: give one number per line, or a CSV with a "
                "phone column; numbers without a country code are read for the Region."
            )
        return numbers


def _page_words(message: str) -> str:
    """A file reader's message with the CLI's options put as this page can act on them."""
    for cli, page in _CLI_WORDS:
        message = message.replace(cli, page)
    return message


def _reader(region: str) -> PhoneReader:
    try:
        return PhoneReader(region)
    except InputError:
        raise InputError(
            f"Region {region!r} is not a region code: give the two-letter ISO code of the "
            "country that numbers without a country code belong to, such as US, GB or DE."
        ) from None


def _read_number(text: str, region: str, action: str) -> str:
    if not text:
        raise InputError(f"Type the number to {action}, e.g. +1 415 555 0123.")
    reading = _reader(region).read(text)
    if not reading.is_valid:
        raise InputError(
            f"{text!r} is not a phone number ({reading.error}): check it, or write it with its "
            f"country code (+44 20 7946 0429); without one it is read as a {region} number."
        )
    return reading.e164


def _search(entries: list[DncEntry], query: str, region: str) -> list[DncEntry]:
    """Newest first; with a query, the entries whose number is it (read for `region`) or holds
    its digits."""
    newest = entries[::-1]
    if not query:
        return newest
    try:
        reading = PhoneReader(region).read(query)
    except InputError:
        reading = None
    if reading is not None and reading.is_valid:
        return [e for e in newest if e.number == reading.e164]
    digits = re.sub(r"\D", "", query)
    return [e for e in newest if digits and digits in e.number]


def _done(code: str, number: str, region: str, **counts: int) -> Response:
    query = {"done": code, "q": number, "region": region, **{k: str(v) for k, v in counts.items()}}
    return RedirectResponse(f"{DNC_PATH}?{urlencode(query)}", status_code=303)


def _notice(code: str, number: str, n: str, of: str) -> str:
    """What a form just did, from the redirect's query (text of ours, the number escaped)."""
    if code not in _DONE_CODES:
        return ""
    if code == "imported":
        added, read = _count(n), _count(of)
        already = f"; {read - added:,} already on the list" if read > added else ""
        return f"{added:,} added from the file ({read:,} numbers read{already})."
    return {
        "added": f"{number} is on the do-not-call list: no campaign calls it from now on.",
        "already": f"{number} was already on the list (its first date and reason are kept).",
        "removed": f"{number} is off the do-not-call list.",
        "missing": f"{number} was not on the do-not-call list.",
    }[code]


def _count(text: str) -> int:
    return int(text) if text.isdigit() and len(text) < 12 else 0
