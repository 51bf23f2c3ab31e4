"""SQLite and Redis failures, as a person reads them: one message that says what to do.

The stores translate them at their boundary: `translate_store_errors` wraps every public method
of a store class (campaigns/store/: sqlite_store.py, redis_store.py), so what leaves a store
is a StoreError, never a sqlite3 or redis exception. `store_failure` is the translation; the
doors (the CLI's `main`, the web page's error handler) still use it for the few other users of
SQLite and Redis (leases, run claims, the page's sessions). The message names the setting to
check, never its value (a REDIS_URL may hold a password), and never a traceback.
"""

from __future__ import annotations

import functools
import inspect
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

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

_DAMAGED_ADVICE = (
    "move it aside (or point DIALER_HOME at another folder) and run it again; its campaigns "
    "and contact history stay in the moved file"
)
# SQLite's words for a file that is not a database, or one whose pages are broken
_DAMAGED = ("file is not a database", "database disk image is malformed")


C = TypeVar("C", bound=type)


def translate_store_errors(cls: C) -> C:
    """Class decorator: each public method of `cls` (generators too) raises a StoreError that
    says what to do where SQLite or Redis failed, the original as its `__cause__`."""
    for name, member in list(vars(cls).items()):
        if not name.startswith("_") and inspect.isfunction(member):
            setattr(cls, name, _translating(member))
    return cls


def _translating(method: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.isgeneratorfunction(method):

        @functools.wraps(method)
        def each(*args: Any, **kwargs: Any) -> Iterator[Any]:
            try:
                yield from method(*args, **kwargs)
            except Exception as exc:
                failure = store_failure(exc)
                if failure is None or failure is exc:
                    raise
                raise failure from exc

        return each

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except Exception as exc:
            failure = store_failure(exc)
            if failure is None or failure is exc:
                raise
            raise failure from exc

    return call


def store_failure(exc: BaseException) -> StoreError | None:
    """`exc` as a StoreError when it is a SQLite or Redis failure; None otherwise."""
    if isinstance(exc, StoreError):
        return exc
    damaged = damaged_file(exc, "A state file in DIALER_HOME")
    if damaged is not None:
        return damaged
    if isinstance(exc, sqlite3.Error):
        return StoreError(
            f"The state folder could not be used (SQLite: {_what(exc)}): {SQLITE_ADVICE}."
        )
    if _is_redis_error(exc):
        return StoreError(f"Redis could not be used ({_what(exc)}): {REDIS_ADVICE}.")
    return None


def damaged_file(exc: BaseException, what: str) -> StoreError | None:
    """The error for `what` (a state file) when SQLite says it is not a database or is
    malformed: it is someone else's or broken, so moving it aside is the way on. None otherwise."""
    if not isinstance(exc, sqlite3.DatabaseError) or not any(w in str(exc) for w in _DAMAGED):
        return None
    return StoreError(
        f"{what} is damaged or is not the dialer's (SQLite: {_what(exc)}): {_DAMAGED_ADVICE}."
    )


def _is_redis_error(exc: BaseException) -> bool:
    if not type(exc).__module__.startswith("redis"):
        return False  # redis is imported only when it is the one that failed
    from redis.exceptions import RedisError

    return isinstance(exc, RedisError)


def _what(exc: BaseException) -> str:
    detail = printable(str(exc).strip() or type(exc).__name__, 160)
    return f"{type(exc).__name__}: {detail}" if str(exc).strip() else detail
