"""Redis databases of the bench's own: used only when empty or marked as the bench's.

A database is claimed by writing a marker key (this host and process); one that holds other
keys and no marker, or the marker of another live bench run, is refused, never flushed. The
bench flushes its databases before use and after; it never touches database 0.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import redis

REDIS_ROOT_URL = "redis://127.0.0.1:6379"
MARKER_KEY = "voxpria-bench:owner"


@dataclass(frozen=True)
class BenchDbs:
    """Which database each part uses (the smoke test passes other numbers)."""

    cluster: int = 12  # the dialer's cluster store, limiter and Celery queue
    celery: int = 13  # the Celery alternatives' broker
    memory: int = 14  # the Redis store's memory per row


def db_url(db: int) -> str:
    return f"{REDIS_ROOT_URL}/{db}"


class NotOurDatabase(RuntimeError):
    """The database holds data that is not the bench's: it is left alone."""


def _me() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_alive(owner: str) -> bool:
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def claim(client: redis.Redis[str], db: int) -> None:
    """Flush `db` and mark it ours, if it is empty or already the bench's."""
    if db == 0:
        raise NotOurDatabase("the bench never uses database 0")
    owner = client.get(MARKER_KEY)
    if owner is None and client.dbsize() > 0:
        raise NotOurDatabase(
            f"Redis database {db} holds keys that are not the bench's: it was left untouched. "
            "Empty it yourself or give the bench other databases."
        )
    if owner is not None and _owner_alive(owner):
        raise NotOurDatabase(f"Redis database {db} is in use by another bench run ({owner}).")
    client.flushdb(asynchronous=True)  # a million keys: freed in the background
    client.set(MARKER_KEY, _me())


@contextmanager
def own_db(db: int) -> Iterator[redis.Redis[str]]:
    """A client of database `db`, claimed (flushed) on entry and flushed on exit."""
    client: redis.Redis[str] = redis.Redis.from_url(db_url(db), decode_responses=True)
    claim(client, db)
    try:
        yield client
    finally:
        if client.get(MARKER_KEY) == _me():
            client.flushdb(asynchronous=True)
        client.close()
