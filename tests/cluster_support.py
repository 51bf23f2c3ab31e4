"""Real `dialer worker` processes on a real Redis database of their own, for cluster tests.

The database is this test process's (each xdist worker its own, `tests.redis_support.worker_db`),
flushed before and after by `own_database()` or the `cluster_redis` fixture; `cluster_url()` is
its URL, which `cluster_env` gives the processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.redis_support import redis_url, whole_database, worker_db

DIALER = str(Path(sys.executable).with_name("dialer"))


def cluster_url() -> str:
    """The URL of this process's own database (skips, or fails in CI, without Redis)."""
    return redis_url(worker_db())


def __getattr__(name: str) -> object:
    # REDIS_URL and TEST_DB, as earlier tests import them: known only once a server is found.
    if name == "REDIS_URL":
        return cluster_url()
    if name == "TEST_DB":
        return worker_db()
    raise AttributeError(name)


def wait_until(condition: Callable[[], bool], deadline_s: float, what: str) -> None:
    end = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {deadline_s:g}s waiting for {what}")
        time.sleep(0.1)


def cluster_env(base_url: str, api_key: str, tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VOXPRIA_", "DIALER_"))}
    env.update(
        REDIS_URL=cluster_url(),
        VOXPRIA_BASE_URL=base_url,
        VOXPRIA_API_KEY=api_key,
        VOXPRIA_CALL_LIMIT="50/s",
        VOXPRIA_REQUEST_LIMIT="500/s",
        DIALER_POLL_MIN_S="0.1",
        DIALER_POLL_MAX_S="0.5",
        DIALER_HOME=str(tmp / "state"),
        # the shared test Redis does not fsync every write: these tests accept that
        DIALER_ALLOW_VOLATILE_REDIS="1",
    )
    env.update(extra)
    return env


class Workers:
    def __init__(self, env: Mapping[str, str], log_dir: Path) -> None:
        self.env = dict(env)
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, n: int) -> None:
        for _ in range(n):
            log = open(self.log_dir / f"worker-{len(self.procs)}.log", "wb")  # noqa: SIM115
            self.procs.append(
                subprocess.Popen(
                    [DIALER, "worker", "--concurrency", "1", "--loglevel", "INFO"],
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group: SIGKILL takes the pool too
                )
            )

    def pids(self, i: int) -> set[int]:
        """Worker `i`'s processes: its main process and its pool (one process group)."""
        group = self.procs[i].pid
        found = set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # ended meanwhile
            if int(fields[2]) == group:  # the fields after "(name)": state, ppid, pgrp, ...
                found.add(int(stat.parent.name))
        return found

    def pause(self, i: int) -> None:
        """SIGSTOP worker `i`'s group: what it holds stays so until `go_on` or `kill`."""
        os.killpg(self.procs[i].pid, signal.SIGSTOP)

    def go_on(self, i: int) -> None:
        os.killpg(self.procs[i].pid, signal.SIGCONT)

    def kill(self, i: int) -> None:
        os.killpg(self.procs[i].pid, signal.SIGKILL)
        self.procs[i].wait(10)

    def stop_all(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(5)


@contextmanager
def own_database() -> Iterator[redis.Redis[str]]:
    """This process's own database, flushed before and after (as the `cluster_redis` fixture)."""
    with whole_database() as client:
        yield client


def dialer(
    args: list[str], env: Mapping[str, str], timeout_s: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DIALER, *args], env=dict(env), capture_output=True, text=True, timeout=timeout_s
    )
