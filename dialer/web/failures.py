"""What the page answers when something fails that no handler caught: a page that says what
happened and what to do, never a traceback or a bare "Internal Server Error".

- A DialerError (its message already says what to do): 400 when the person must fix
  something, 502 when the API failed.
- A StoreError (the stores raise it for SQLite and Redis failures) or a SQLite or Redis
  failure from outside the stores: 503, the message that says what to do
  (dialer.store_errors).
- Anything else: 500, a page saying nothing was lost and where the details are (the server's
  log, which gets the traceback).
Every message passes through `scrub` first: the page never shows where the server keeps its
files.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from dialer.errors import DialerError, StoreError
from dialer.printable import printable
from dialer.store_errors import store_failure
from dialer.web.templating import Pages

log = logging.getLogger(__name__)

Handler = Callable[[Request, Exception], Awaitable[Response]]
UNEXPECTED = (
    "Something went wrong on the server; nothing was lost. Go back and try again; if it happens "
    "again, whoever runs `dialer serve` finds the details in its log."
)


def scrub(message: str, home: Path, *known: tuple[Path, str]) -> str:
    """`message` without server paths: each known file as the name the person knows it by,
    and the state folder as DIALER_HOME."""
    for path, name in known:
        for form in {str(path.resolve()), str(path)}:
            message = message.replace(form, name)
    for form in sorted(
        {str(home.resolve()), str(home.absolute()), str(home)}, key=len, reverse=True
    ):
        if form not in ("", "."):
            message = message.replace(form, "DIALER_HOME")
    return message


def error_handlers(pages: Pages, home: Path) -> dict[type[Exception] | int, Handler]:
    async def dialer_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DialerError)
        status_code = 400 if exc.exit_code == 2 else 502
        return pages.error(None, status_code, "Not done", scrub(str(exc), home), "/")

    async def store_error(request: Request, exc: Exception) -> Response:
        failure = store_failure(exc)
        message = str(failure) if failure else UNEXPECTED
        log.warning("%s %s: %s", request.method, printable(request.url.path), message)
        return pages.error(None, 503, "The store is unavailable", scrub(message, home), "/")

    async def unexpected(request: Request, exc: Exception) -> Response:
        failure = store_failure(exc)
        if failure is not None:
            return await store_error(request, exc)
        return pages.error(None, 500, "Something went wrong", UNEXPECTED, "/")

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            title, message = "Not found", "There is no such page here: start from the campaigns."
        else:
            title, message = "Not done", f"{exc.detail}: use the page's own links and forms."
        return pages.error(None, exc.status_code, title, message, "/campaigns")

    handlers: dict[type[Exception] | int, Handler] = {
        HTTPException: http_error,
        DialerError: dialer_error,
        StoreError: store_error,
        sqlite3.Error: store_error,
        Exception: unexpected,
    }
    return handlers
