"""SQLite and Redis failures, as a person reads them: one message that says what to do.

The stores translate what they expect; anything else that escapes them (a locked or read-only
state file, a full disk, Redis gone or refusing) is translated here, at the doors: the CLI's
`main` and the web page's error handler. The message names the setting to check, never its
value (a REDIS_URL may hold a password), and never a traceback.
"""

from __future__ import annotations

import sqlite3

from dialer.errors import StoreError
from dialer.printable import printable

SQLITE_ADVICE = (
    "check that DIALER_HOME is a local folder you can write, with free space, that no other "
    "program holds open; then run it again"
)
REDIS_ADVICE = (
    "check that Redis is running and that REDIS_URL (host, port, password) is right; then run "
    "it again"
)


def store_failure(exc: BaseException) -> StoreError | None:
    """`exc` as a StoreError when it is a SQLite or Redis failure; None otherwise."""
    if isinstance(exc, StoreError):
        return exc
    if isinstance(exc, sqlite3.Error):
        return StoreError(
            f"The state folder could not be used (SQLite: {_what(exc)}): {SQLITE_ADVICE}."
        )
    if _is_redis_error(exc):
        return StoreError(f"Redis could not be used ({_what(exc)}): {REDIS_ADVICE}.")
    return None


def _is_redis_error(exc: BaseException) -> bool:
    if not type(exc).__module__.startswith("redis"):
        return False  # redis is imported only when it is the one that failed
    from redis.exceptions import RedisError

    return isinstance(exc, RedisError)


def _what(exc: BaseException) -> str:
    detail = printable(str(exc).strip() or type(exc).__name__, 160)
    return f"{type(exc).__name__}: {detail}" if str(exc).strip() else detail
