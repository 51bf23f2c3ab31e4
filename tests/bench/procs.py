"""Every process the bench starts, kept so that all of them stop at the end, even on failure.

Each child gets a session (and so a process group) of its own: stopping it signals the group,
which takes a Celery worker's pool children too. Waits are bounded: `wait_until` raises
`BenchTimeout` rather than hang.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

STOP_GRACE_S = 1.0  # SIGTERM, then SIGKILL after this (the bench's state is thrown away)
REAP_TIMEOUT_S = 5.0
_STARTED = time.monotonic()


def say(message: str) -> None:
    """A progress line on stderr, stamped with the seconds since the bench started."""
    print(f"[{time.monotonic() - _STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


@contextmanager
def timed(label: str) -> Iterator[None]:
    """Say how long the block took."""
    started = time.monotonic()
    yield
    say(f"  {label}: {time.monotonic() - started:.1f} s")


class BenchTimeout(RuntimeError):
    """Something the bench waited for did not happen in time."""


def wait_until(
    condition: Callable[[], bool], timeout_s: float, what: str, interval_s: float = 0.05
) -> float:
    """Poll `condition` until it holds; returns the seconds waited."""
    started = time.monotonic()
    while not condition():
        waited_s = time.monotonic() - started
        if waited_s > timeout_s:
            raise BenchTimeout(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(interval_s)
    return time.monotonic() - started


class Processes:
    """Start children with their output in `log_dir`; `stop_all` (or leaving the `with`)
    stops every one still running."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self._procs: list[subprocess.Popen[bytes]] = []
        log_dir.mkdir(parents=True, exist_ok=True)

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def start(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.Popen[bytes]:
        with self.log_path(name).open("ab") as log:
            proc = subprocess.Popen(
                list(argv),
                env=dict(env) if env is not None else None,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes], grace_s: float = STOP_GRACE_S) -> None:
        _signal_group(proc, signal.SIGTERM)
        _reap(proc, time.monotonic() + grace_s)

    def stop_all(self) -> None:
        """SIGTERM to every child at once, one grace period for all, then SIGKILL."""
        for proc in self._procs:
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for proc in self._procs:
            _reap(proc, deadline)
        self._procs.clear()

    def __enter__(self) -> Processes:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_all()


def _reap(proc: subprocess.Popen[bytes], deadline: float) -> None:
    """Wait for the child until `deadline`, then SIGKILL its group (pool children may outlive
    their parent) and reap it."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(max(deadline - time.monotonic(), 0.0))
    _signal_group(proc, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(REAP_TIMEOUT_S)


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """Signal the process group the child leads (its id is the child's pid)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)
