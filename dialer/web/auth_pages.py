"""Signing in with DIALER_UI_TOKEN, and out."""

from __future__ import annotations

import asyncio
import math

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from dialer.web.gate import SIGN_IN_PATH, Gate, safe_next
from dialer.web.sessions import Session
from dialer.web.sign_in_limits import SignInLimiter
from dialer.web.templating import Pages

WRONG_TOKEN = (
    "That is not the token. It is the value of DIALER_UI_TOKEN where `dialer serve` runs; ask "
    "whoever started it."
)


class AuthPages:
    def __init__(
        self, gate: Gate, pages: Pages, limiter: SignInLimiter, failed_sign_in_delay_s: float
    ) -> None:
        self._gate = gate
        self._pages = pages
        self._limiter = limiter
        # A wrong guess costs the guesser time; a person who mistyped hardly notices.
        self._failed_delay_s = failed_sign_in_delay_s

    def routes(self) -> list[BaseRoute]:
        return [
            Route(SIGN_IN_PATH, self.sign_in_form, methods=["GET"]),
            Route(SIGN_IN_PATH, self._gate.form(self.sign_in, signed_in=False), methods=["POST"]),
            Route("/logout", self._gate.form(self.sign_out), methods=["POST"]),
        ]

    async def sign_in_form(self, request: Request) -> Response:
        session = self._gate.session_of(request)
        next_path = safe_next(request.query_params.get("next"))
        if session is not None and session.signed_in:
            return RedirectResponse(next_path, status_code=303)
        session = session or self._gate.sessions.anonymous()
        page = self._pages.html("login.html", session, next_path=next_path, error="")
        return self._gate.set_session(page, request, session)

    async def sign_in(self, request: Request, session: Session, form: FormData) -> Response:
        next_path = safe_next(str(form.get("next", "")))
        client = request.client.host if request.client else "?"
        wait_s = self._limiter.wait_s(client)
        if wait_s > 0:  # refused before the token is compared: an answer tells nothing
            return self._too_many(session, next_path, wait_s)
        if not self._gate.sessions.token_matches(str(form.get("token", ""))):
            self._limiter.failed(client)
            await asyncio.sleep(self._failed_delay_s)
            return self._pages.html(
                "login.html", session, 401, next_path=next_path, error=WRONG_TOKEN
            )
        # A new session, new CSRF token: whatever was planted before signing in is void.
        await run_in_threadpool(self._gate.sessions.sign_out, session)
        fresh = await run_in_threadpool(self._gate.sessions.sign_in)
        response = RedirectResponse(next_path, status_code=303)
        return self._gate.set_session(response, request, fresh)

    def _too_many(self, session: Session, next_path: str, wait_s: float) -> Response:
        seconds = math.ceil(wait_s)
        message = (
            f"Too many wrong tokens: sign-in is paused for {seconds} s. Wait, then enter the "
            "value of DIALER_UI_TOKEN where `dialer serve` runs."
        )
        page = self._pages.html("login.html", session, 429, next_path=next_path, error=message)
        page.headers["retry-after"] = str(seconds)
        return page

    async def sign_out(self, request: Request, session: Session, form: FormData) -> Response:
        """The server forgets the session: its cookie, replayed, signs nobody in."""
        await run_in_threadpool(self._gate.sessions.sign_out, session)
        response = RedirectResponse(SIGN_IN_PATH, status_code=303)
        return self._gate.set_session(response, request, self._gate.sessions.anonymous())
