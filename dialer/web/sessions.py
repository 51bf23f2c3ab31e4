"""Signed session cookies, and the sign-in token checked against DIALER_UI_TOKEN.

A session is a small signed cookie (itsdangerous), not server state: a browser that has never
signed in gets one too, because its CSRF token must exist before the sign-in form is posted.
Signing in issues a new session (new CSRF token), so a session planted before sign-in is worth
nothing after it.

The signing key is derived from the token: sessions survive a restart of `dialer serve`, and
changing DIALER_UI_TOKEN signs everybody out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

from dialer.settings import Secret

COOKIE_NAME = "dialer_session"
SESSION_MAX_AGE_S = 12 * 3600  # a working day: a person signs in once a day
_KEY_PURPOSE = b"dialer-ui-session-v1"


@dataclass(frozen=True)
class Session:
    csrf: str  # sent back with every form; compared in constant time
    signed_in: bool


class SessionCodec:
    def __init__(self, token: Secret, max_age_s: int = SESSION_MAX_AGE_S) -> None:
        key = hmac.new(token.reveal().encode(), _KEY_PURPOSE, hashlib.sha256).digest()
        self._serializer = URLSafeTimedSerializer(key, salt="dialer-ui-session")
        self._token = token
        self.max_age_s = max_age_s

    def token_matches(self, given: str) -> bool:
        # bytes: compare_digest takes only ASCII str, and a typed token may be anything
        return hmac.compare_digest(given.strip().encode(), self._token.reveal().encode())

    @staticmethod
    def new(*, signed_in: bool) -> Session:
        return Session(csrf=secrets.token_urlsafe(32), signed_in=signed_in)

    def dump(self, session: Session) -> str:
        return self._serializer.dumps({"csrf": session.csrf, "in": session.signed_in})

    def load(self, cookie: str | None) -> Session | None:
        """The session a cookie carries; None when absent, forged, or older than max_age_s."""
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=self.max_age_s)
        except BadSignature:  # SignatureExpired is one too
            return None
        if not isinstance(data, dict) or not isinstance(data.get("csrf"), str):
            return None
        return Session(csrf=data["csrf"], signed_in=data.get("in") is True)


def csrf_matches(session: Session, given: str) -> bool:
    return hmac.compare_digest(given.encode(), session.csrf.encode())
