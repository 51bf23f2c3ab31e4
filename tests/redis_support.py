"""Redis for tests: fakeredis (with Lua) for units, a real server for the rest.

A real server comes from, in order:
1. TEST_REDIS_URL (default redis://127.0.0.1:6379/0), if it answers;
2. else a `redis-server` of this test process's own (TEST_REDIS_SERVER names the binary, default
   the one on PATH), on a free port, in a temporary folder, without persistence; stopped at exit.
   Each xdist worker is a process of its own, so each starts its own;
3. else the test skips, saying why; with CI set it fails instead.

Database 0 is shared with other checkouts testing at once: tests there keep to a key prefix of
their own (`unique_prefix`) and delete only their keys. A test that needs a whole database
(`dialer worker` processes flush and fill it) uses `worker_db()`: DIALER_TEST_REDIS_DB (default 9)
for the first xdist worker, the next allowed numbers for the others; 0 (shared) and 12, 13 (the
bench's) are never used.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fakeredis
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from campaigns.store.rows import RowStore
from dialer.keys import RedisKeys

DEFAULT_URL = "redis://127.0.0.1:6379/0"
START_TIMEOUT_S = 10.0
# Whole databases tests may flush: never 0 (shared, prefixed keys) nor 12, 13 (`make bench`).
ALLOWED_DBS = tuple(db for db in range(1, 16) if db not in (12, 13))


class RedisUnavailable(Exception):
    """No Redis server can be had; the message says why and what to do."""


# --- the server -------------------------------------------------------------------------------


def answers(url: str, timeout_s: float = 2.0) -> bool:
    client: redis.Redis[str] = redis.Redis.from_url(
        url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s, retry=Retry(NoBackoff(), 0)
    )
    try:
        return bool(client.ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False
    finally:
        client.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class OwnServer:
    """A `redis-server` this process started; `stop` ends it and removes its folder."""

    proc: subprocess.Popen[bytes]
    root_url: str
    folder: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.folder, ignore_errors=True)


def start_own_server(binary: str) -> OwnServer:
    """Start `binary` on a free port; a port taken meanwhile by someone else is tried again."""
    folder = Path(tempfile.mkdtemp(prefix="dialer-test-redis-"))
    for _ in range(3):
        port = _free_port()
        args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
        args += ["no", "--dir", str(folder), "--logfile", str(folder / "redis.log")]
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server = OwnServer(proc, f"redis://127.0.0.1:{port}", folder)
        deadline = time.monotonic() + START_TIMEOUT_S
        while proc.poll() is None and time.monotonic() < deadline:
            if answers(server.root_url + "/0"):
                return server
            time.sleep(0.02)
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)
    log = (folder / "redis.log").read_text(errors="replace")[-500:] if folder.exists() else ""
    shutil.rmtree(folder, ignore_errors=True)
    raise RedisUnavailable(f"{binary} did not start: {log}")


class _Servers:
    """The one Redis server of this test process, found or started on first use."""

    root_url: str | None = None
    own: OwnServer | None = None

    @classmethod
    def root(cls) -> str:
        if cls.root_url is None:
            cls.root_url = cls._find()
        return cls.root_url

    @classmethod
    def _find(cls) -> str:
        url = os.environ.get("TEST_REDIS_URL", DEFAULT_URL)
        if answers(url):
            return url.rsplit("/", 1)[0] if url.count("/") > 2 else url
        binary = os.environ.get("TEST_REDIS_SERVER", "redis-server")
        found = shutil.which(binary)
        if found is None:
            raise RedisUnavailable(
                f"no Redis answers at {url} and there is no {binary} binary to start one: "
                "install redis-server (apt-get install redis-server) or set TEST_REDIS_URL"
            )
        cls.own = start_own_server(found)
        atexit.register(stop_own_server)
        return cls.own.root_url


def stop_own_server() -> None:
    """Stop the server this process started, if any (conftest calls this at the session's end)."""
    if _Servers.own is not None:
        _Servers.own.stop()
        _Servers.own = None
        _Servers.root_url = None


def redis_url(db: int = 0) -> str:
    """The URL of database `db` on the tests' real Redis; skips (CI: fails) when there is none."""
    try:
        return f"{_Servers.root()}/{db}"
    except RedisUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{exc} (CI must provide Redis)")
        pytest.skip(str(exc))


def worker_db() -> int:
    """This test process's own database (see the module's docstring)."""
    base = int(os.environ.get("DIALER_TEST_REDIS_DB", "9"))
    if base not in ALLOWED_DBS:
        raise pytest.UsageError(f"DIALER_TEST_REDIS_DB={base}: choose one of {ALLOWED_DBS}")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")  # gw0, gw1, ...
    index = int(worker.removeprefix("gw")) if worker.startswith("gw") else 0
    return ALLOWED_DBS[(ALLOWED_DBS.index(base) + index) % len(ALLOWED_DBS)]


# --- clients --------------------------------------------------------------------------------


def redis_or_skip() -> redis.Redis[str]:
    """A client of database 0 on the real Redis (keep to a prefix of your own there)."""
    return redis.Redis.from_url(redis_url(0), decode_responses=True)


def unique_prefix(name: str = "test") -> str:
    return f"{name}-{uuid.uuid4().hex[:10]}"


def clean_prefix(client: redis.Redis[str], prefix: str) -> None:
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        client.delete(key)


@dataclass(frozen=True)
class RedisSpace:
    """A test's part of a Redis: a client and keys under a prefix of its own.

    `url` is where a process of the dialer finds it (None for fakeredis, which lives in this
    process only)."""

    kind: str  # "fakeredis" or "redis"
    client: redis.Redis[str]
    keys: RedisKeys
    url: str | None

    @property
    def prefix(self) -> str:
        return self.keys.prefix


MakeRedis = Callable[[str], "RedisSpace"]  # conftest's `make_redis`
MakeStore = Callable[..., RowStore]  # conftest's `make_store(kind, account="")`

REDIS_KINDS = ("fakeredis", "redis")
STORE_KINDS = ("sqlite", *REDIS_KINDS)


def store_params(*kinds: str) -> list[Any]:
    """Fixture params over `kinds` ("sqlite", "fakeredis", "redis"), "redis" marked integration:
    `@pytest.fixture(params=store_params("sqlite", "redis"))`."""
    return [pytest.param(k, marks=pytest.mark.integration) if k == "redis" else k for k in kinds]


@contextmanager
def open_redis_space(kind: str, name: str = "test") -> Iterator[RedisSpace]:
    """A fresh `RedisSpace` of `kind`; its keys are deleted afterwards."""
    prefix = unique_prefix(name)
    if kind == "fakeredis":
        fake: redis.Redis[str] = fakeredis.FakeRedis(
            server=fakeredis.FakeServer(), decode_responses=True
        )
        yield RedisSpace(kind, fake, RedisKeys(prefix), None)
        fake.close()
        return
    if kind != "redis":
        raise ValueError(f"unknown Redis kind {kind!r}: one of {REDIS_KINDS}")
    url = redis_url(0)
    client: redis.Redis[str] = redis.Redis.from_url(url, decode_responses=True)
    try:
        yield RedisSpace(kind, client, RedisKeys(prefix), url)
    finally:
        clean_prefix(client, prefix)
        client.close()


@contextmanager
def whole_database() -> Iterator[redis.Redis[str]]:
    """This process's own database on the real Redis, flushed before and after."""
    client: redis.Redis[str] = redis.Redis.from_url(redis_url(worker_db()), decode_responses=True)
    client.flushdb()
    try:
        yield client
    finally:
        client.flushdb()
        client.close()


@pytest.fixture
def real_redis() -> Iterator[tuple[redis.Redis[str], str]]:
    """(client, prefix) on the real server's database 0; the prefix's keys deleted afterwards."""
    with open_redis_space("redis") as space:
        yield space.client, space.prefix
