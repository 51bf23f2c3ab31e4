"""Every page and form goes through the gate: signed in, same site, right CSRF token, body
within its cap. And every answer carries the headers that keep a browser strict.

Cross-site requests are refused three ways, because each alone has gaps: the session cookie is
SameSite=Strict (a browser does not send it from another site), a POST whose Origin or
Sec-Fetch-Site says it comes from another site is refused before its body is read, and every
POST carries the session's CSRF token, compared in constant time.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dialer.web.bodies import BadForm, BodyTooLarge, read_form
from dialer.web.sessions import COOKIE_NAME, Session, SessionCodec, csrf_matches
from dialer.web.templating import Pages

PageHandler = Callable[[Request, Session], Awaitable[Response]]
FormHandler = Callable[[Request, Session, FormData], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]

SMALL_FORM_BYTES = 64 * 1024  # sign in, start, stop: a few fields
SIGN_IN_PATH = "/login"
# A path of ours: one leading slash, then letters, digits and / _ . - only (never //host, /\host,
# a scheme, a tab or a newline that a browser would drop, nor %-escapes of any of them).
_SAFE_NEXT = re.compile(r"/(?![/\\])[A-Za-z0-9/_.\-]{0,300}")
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_STRICT_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # Not no-referrer: under it a browser sends `Origin: null` with the page's own forms.
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
_NOT_STORED = (b"cache-control", b"no-store")  # pages hold contacts' data


class Gate:
    def __init__(self, sessions: SessionCodec, pages: Pages) -> None:
        self.sessions = sessions
        self.pages = pages

    def session_of(self, request: Request) -> Session | None:
        return self.sessions.load(request.cookies.get(COOKIE_NAME))

    def set_session(self, response: Response, request: Request, session: Session) -> Response:
        response.set_cookie(
            COOKIE_NAME,
            self.sessions.dump(session),
            max_age=self.sessions.max_age_s,
            path="/",
            httponly=True,  # no script reads it, injected or not
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    def page(self, handler: PageHandler) -> Endpoint:
        """A GET for people signed in; others are sent to sign in, then back here."""

        async def endpoint(request: Request) -> Response:
            session = self.session_of(request)
            if session is None or not session.signed_in:
                return RedirectResponse(sign_in_url(request.url.path), status_code=303)
            return await handler(request, session)

        return endpoint

    def data(self, handler: PageHandler) -> Endpoint:
        """A GET answered with JSON: 401 rather than a redirect to a page, for scripts."""

        async def endpoint(request: Request) -> Response:
            session = self.session_of(request)
            if session is None or not session.signed_in:
                return JSONResponse({"error": "Sign in again: reload the page."}, 401)
            return await handler(request, session)

        return endpoint

    def form(
        self,
        handler: FormHandler,
        *,
        max_body_bytes: int = SMALL_FORM_BYTES,
        too_large: str = "The form is too large.",
        signed_in: bool = True,
        back_url: str = "/new",
    ) -> Endpoint:
        """A POST: same site, a session (signed in unless `signed_in` is False: the sign-in
        form itself), a body within `max_body_bytes` (413 with `too_large` past it, and a
        link back to `back_url`), and the session's CSRF token."""

        async def endpoint(request: Request) -> Response:
            session = self._session_for_post(request, signed_in)
            if isinstance(session, Response):  # refused before its body is read
                return session
            try:
                form = await read_form(request, max_body_bytes)
            except BodyTooLarge:
                return self.pages.error(session, 413, "Too large", too_large, back_url)
            except BadForm as exc:
                return self.pages.error(session, 400, "Not a form", f"{exc}: use the page.")
            try:
                if not csrf_matches(session, str(form.get("csrf", ""))):
                    return self._forbidden(
                        session,
                        "The form's security token is missing or stale: reload the "
                        "page and submit it again.",
                    )
                return await handler(request, session, form)
            finally:
                await form.close()

        return endpoint

    def _session_for_post(self, request: Request, signed_in: bool) -> Session | Response:
        """The request's session, or the answer refusing it."""
        reason = cross_site_reason(request)
        if reason is not None:
            return self._forbidden(None, f"Refused: {reason}. Use the page itself.")
        session = self.session_of(request)
        if session is None:
            return self._forbidden(
                None,
                "Your session has ended (signed out, or too old), or your browser sent "
                "none: open the sign-in page and sign in again (allow cookies for this site).",
            )
        if signed_in and not session.signed_in:
            return self._forbidden(session, "Sign in first, then try again.")
        return session

    def _forbidden(self, session: Session | None, message: str) -> Response:
        return self.pages.error(session, 403, "Not allowed", message, SIGN_IN_PATH)


def sign_in_url(next_path: str) -> str:
    return f"{SIGN_IN_PATH}?next={next_path}" if is_own_path(next_path) else SIGN_IN_PATH


def safe_next(next_path: str | None) -> str:
    """Where to go after signing in: a path of this site only (no open redirect)."""
    if next_path and is_own_path(next_path) and next_path != SIGN_IN_PATH:
        return next_path
    return "/"


def is_own_path(path: str) -> bool:
    return _SAFE_NEXT.fullmatch(path) is not None and "//" not in path


def cross_site_reason(request: Request) -> str | None:
    """Why a state-changing request looks cross-site, or None. A request with neither header
    (an old browser, a script) is left to the CSRF token."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return f"the request came from another site (Sec-Fetch-Site: {fetch_site})"
    origin = request.headers.get("origin")
    if origin is None:
        return None
    # Hosts, not schemes: behind a TLS proxy the page is https and this server sees http.
    own_host = request.headers.get("host", "")
    if origin == "null" or urlsplit(origin).netloc != own_host:
        return "the request came from another origin"
    return None


class StrictHeaders:
    """ASGI middleware: a Content-Security-Policy and friends on every answer, and no caching
    of anything but the static files."""

    def __init__(self, app: ASGIApp, static_prefix: str = "/static/") -> None:
        self.app = app
        self.static_prefix = static_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = str(scope.get("path", "")).startswith(self.static_prefix)

        async def send_strict(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += _STRICT_HEADERS
                if not is_static:
                    headers.append(_NOT_STORED)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_strict)
