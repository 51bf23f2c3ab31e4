"""Signing in with DIALER_UI_TOKEN, and out."""

from __future__ import annotations

import asyncio

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from dialer.web.gate import SIGN_IN_PATH, Gate, safe_next
from dialer.web.sessions import Session
from dialer.web.templating import Pages

WRONG_TOKEN = (
    "That is not the token. It is the value of DIALER_UI_TOKEN where `dialer serve` runs; ask "
    "whoever started it."
)


class AuthPages:
    def __init__(self, gate: Gate, pages: Pages, failed_sign_in_delay_s: float) -> None:
        self._gate = gate
        self._pages = pages
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
        session = session or self._gate.sessions.new(signed_in=False)
        page = self._pages.html("login.html", session, next_path=next_path, error="")
        return self._gate.set_session(page, request, session)

    async def sign_in(self, request: Request, session: Session, form: FormData) -> Response:
        next_path = safe_next(str(form.get("next", "")))
        if not self._gate.sessions.token_matches(str(form.get("token", ""))):
            await asyncio.sleep(self._failed_delay_s)
            return self._pages.html(
                "login.html", session, 401, next_path=next_path, error=WRONG_TOKEN
            )
        # A new session, new CSRF token: whatever was planted before signing in is void.
        fresh = self._gate.sessions.new(signed_in=True)
        response = RedirectResponse(next_path, status_code=303)
        return self._gate.set_session(response, request, fresh)

    async def sign_out(self, request: Request, session: Session, form: FormData) -> Response:
        response = RedirectResponse(SIGN_IN_PATH, status_code=303)
        return self._gate.set_session(response, request, self._gate.sessions.new(signed_in=False))
