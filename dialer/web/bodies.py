"""Reading a form body with a size cap, whatever the client says about its size.

Starlette's own `request.form()` reads a urlencoded body whole, however big, and spools a
multipart one without limit. Here the body is counted as it arrives: past `max_bytes` the read
stops with `BodyTooLarge` (the caller answers 413), both when Content-Length says so up front
and when a chunked or lying client just keeps sending.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator

from starlette.datastructures import FormData
from starlette.formparsers import FormParser, MultiPartException, MultiPartParser
from starlette.requests import Request

MAX_FIELDS = 40
MAX_FILES = 2  # the contact list and the suppression list


class BodyTooLarge(Exception):
    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"the request body is larger than {max_bytes} bytes")
        self.max_bytes = max_bytes


class BadForm(Exception):
    """The body is not a form this page sent."""


async def read_form(request: Request, max_bytes: int) -> FormData:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLarge(max_bytes)
    stream = _capped(request.stream(), max_bytes)
    content_type = request.headers.get("content-type", "")
    try:
        if content_type.startswith("multipart/form-data"):
            parser = MultiPartParser(
                request.headers, stream, max_files=MAX_FILES, max_fields=MAX_FIELDS
            )
            return await parser.parse()
        if content_type.startswith("application/x-www-form-urlencoded"):
            return await FormParser(request.headers, stream).parse()
    except MultiPartException as exc:
        raise BadForm(str(exc)) from None
    raise BadForm(f"expected a form, got Content-Type {content_type or 'none'!r}")


async def _capped(chunks: AsyncIterator[bytes], max_bytes: int) -> AsyncGenerator[bytes, None]:
    seen_bytes = 0
    async for chunk in chunks:
        seen_bytes += len(chunk)
        if seen_bytes > max_bytes:
            raise BodyTooLarge(max_bytes)
        yield chunk
