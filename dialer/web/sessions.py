"""Sessions of the web page: signed cookies over server-side session ids.

- The signing key is random, made once and kept in DIALER_HOME (`ui-session-key`, mode 0600).
  Nothing in a cookie depends on DIALER_UI_TOKEN, so a cookie gives nobody a way to test token
  guesses offline, nor to forge a session.
- A browser that has not signed in gets a signed cookie holding only its CSRF token (the sign-in
  form needs one before it is posted); nothing is stored for it.
- Signing in stores a new session server-side (a random id, kept hashed, with its own CSRF
  token) and the cookie carries only that id. Signing out deletes it: the old cookie is refused
  from then on. A session ends after SESSION_MAX_AGE_S whatever happens.
- The token is compared (in constant time) only when a person signs in. Changing
  DIALER_UI_TOKEN ends every session at the next start (the store keeps a slow hash of it).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer

from dialer.clock import Clock
from dialer.errors import SettingsError
from dialer.settings import Secret

COOKIE_NAME = "dialer_session"
SESSION_MAX_AGE_S = 12 * 3600  # a working day: a person signs in once a day
KEY_FILE = "ui-session-key"
SESSIONS_FILE = "ui-sessions.sqlite"
KEY_BYTES = 32
# scrypt of the token (RFC 7914 cost): a stolen sessions file is no fast oracle for guesses
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


@dataclass(frozen=True)
class Session:
    csrf: str  # sent back with every form; compared in constant time
    signed_in: bool
    sid: str = ""  # the server-side id of a signed-in session


def signing_key(home: Path) -> bytes:
    """The key in `home`/KEY_FILE, made (random, 0600, never overwritten) when absent."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = home / KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.chmod(path, 0o600)  # a copy restored with looser modes is tightened
        return _read_key(path)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        key = secrets.token_bytes(KEY_BYTES)
        out.write(key.hex() + "\n")
    return key


def _read_key(path: Path) -> bytes:
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except ValueError:  # also UnicodeDecodeError
        key = b""
    if len(key) < KEY_BYTES:
        raise SettingsError(
            f"{path} is not a session key: delete it (everybody signs in again) and start "
            "`dialer serve` again; it makes a new one."
        )
    return key


class SessionStore:
    """Signed-in sessions in a small SQLite file of DIALER_HOME (ids hashed: the file holds no
    cookie that works)."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        os.chmod(path, 0o600)
        self._db.executescript(
            "CREATE TABLE IF NOT EXISTS sessions "
            "(sid_hash TEXT PRIMARY KEY, csrf TEXT NOT NULL, created_at REAL NOT NULL);"
            "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);"
        )

    def close(self) -> None:
        self._db.close()

    def keep_only_for(self, token_tag: str) -> None:
        """Delete every session when the token they were signed in with is not this one."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE name = 'token'").fetchone()
            if row is None or not hmac.compare_digest(row[0], token_tag):
                self._db.execute("DELETE FROM sessions")
                self._db.execute("INSERT OR REPLACE INTO meta VALUES ('token', ?)", (token_tag,))

    def add(self, sid: str, csrf: str, now: float, max_age_s: float) -> None:
        with self._lock:
            self._db.execute("DELETE FROM sessions WHERE created_at < ?", (now - max_age_s,))
            self._db.execute("INSERT INTO sessions VALUES (?, ?, ?)", (_hashed(sid), csrf, now))

    def csrf_of(self, sid: str, now: float, max_age_s: float) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT csrf FROM sessions WHERE sid_hash = ? AND created_at >= ?",
                (_hashed(sid), now - max_age_s),
            ).fetchone()
        return str(row[0]) if row else None

    def remove(self, sid: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM sessions WHERE sid_hash = ?", (_hashed(sid),))


def _hashed(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def token_tag(token: Secret, key: bytes) -> str:
    return hashlib.scrypt(token.reveal().encode(), salt=key, **_SCRYPT).hex()


class SessionCodec:
    """Cookies in and out, sign-in and sign-out. Blocking (SQLite): milliseconds."""

    def __init__(
        self,
        token: Secret,
        home: Path,
        clock: Clock,
        max_age_s: int = SESSION_MAX_AGE_S,
    ) -> None:
        key = signing_key(home)
        self._serializer = URLSafeTimedSerializer(key, salt="dialer-ui-session-v2")
        self._store = SessionStore(home / SESSIONS_FILE)
        self._store.keep_only_for(token_tag(token, key))
        self._token = token
        self._clock = clock
        self.max_age_s = max_age_s

    def close(self) -> None:
        self._store.close()

    def token_matches(self, given: str) -> bool:
        # bytes: compare_digest takes only ASCII str, and a typed token may be anything
        return hmac.compare_digest(given.strip().encode(), self._token.reveal().encode())

    @staticmethod
    def anonymous() -> Session:
        return Session(csrf=secrets.token_urlsafe(32), signed_in=False)

    def sign_in(self) -> Session:
        """A new server-side session (new id, new CSRF token): whatever was planted before
        signing in is void."""
        session = Session(secrets.token_urlsafe(32), True, secrets.token_urlsafe(32))
        self._store.add(session.sid, session.csrf, self._clock.now(), self.max_age_s)
        return session

    def sign_out(self, session: Session) -> None:
        if session.sid:
            self._store.remove(session.sid)

    def dump(self, session: Session) -> str:
        if session.signed_in:
            return self._serializer.dumps({"sid": session.sid})
        return self._serializer.dumps({"csrf": session.csrf})

    def load(self, cookie: str | None) -> Session | None:
        """The session a cookie carries; None when absent, forged, too old, or signed out."""
        if not cookie or len(cookie) > 4096:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=self.max_age_s)
        except BadSignature:  # SignatureExpired is one too
            return None
        if not isinstance(data, dict):
            return None
        sid, csrf = data.get("sid"), data.get("csrf")
        if isinstance(sid, str):
            stored = self._store.csrf_of(sid, self._clock.now(), self.max_age_s)
            return Session(stored, True, sid) if stored is not None else None
        return Session(csrf, False) if isinstance(csrf, str) else None


def csrf_matches(session: Session, given: str) -> bool:
    return hmac.compare_digest(given.encode(), session.csrf.encode())
