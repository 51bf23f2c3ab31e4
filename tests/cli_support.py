"""Running the installed `dialer` command as a real subprocess, for end-to-end tests.

    env = dialer_env(tmp_path / "home", base_url=sim.base_url, api_key=key)
    done = run_dialer(["run", str(contacts), "--agent", "agent_demo"], env)
    assert done.returncode == 0, done.output

    proc = DialerProcess.start(["run", ...], env)   # runs on; its output is read as it comes
    wait_until(lambda: len(sim.sim.audit()) >= 30, timeout_s=20, what="30 calls")
    proc.interrupt()                                 # Ctrl-C
    assert proc.wait(timeout_s=20) == 130

Nothing here sleeps for a fixed time: `wait_until` polls a condition up to a deadline.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

# The `dialer` script installed next to this interpreter (the venv's), as a user runs it.
DIALER = Path(sys.executable).with_name("dialer")
POLL_INTERVAL_S = 0.02  # how often `wait_until` looks at its condition
RUN_TIMEOUT_S = 60.0

# Environment variables a test must not inherit from the shell that runs pytest.
_OURS = ("VOXPRIA_", "DIALER_", "REDIS_URL")


def dialer_env(
    home: Path,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    **extra: str,
) -> dict[str, str]:
    """The environment of a `dialer` subprocess: its own state folder, the simulator's URL and
    key, account limits high enough not to pace a test, and polls fast enough for a simulator
    at speed 600 (a 2-minute call lasts 0.2 s)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OURS)}
    env.update(
        DIALER_HOME=str(home),
        VOXPRIA_CALL_LIMIT="1000/s",
        VOXPRIA_REQUEST_LIMIT="10000/s",
        DIALER_POLL_MIN_S="0.05",
        DIALER_POLL_MAX_S="0.2",
        NO_COLOR="1",
        PYTHONUNBUFFERED="1",
    )
    if base_url is not None:
        env["VOXPRIA_BASE_URL"] = base_url
    if api_key is not None:
        env["VOXPRIA_API_KEY"] = api_key
    env.update(extra)
    return env


@dataclass(frozen=True)
class Done:
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        """Both streams, for assertion messages and for what a person reads."""
        return f"--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"


def run_args(contacts: Path, report: Path, *extra: str) -> list[str]:
    """`dialer run CONTACTS --agent agent_demo --window any --report REPORT ...`: the run the
    end-to-end tests make, the simulator's demo agent at any hour."""
    return [
        "run",
        str(contacts),
        "--agent",
        "agent_demo",
        "--window",
        "any",
        "--report",
        str(report),
        *extra,
    ]


def run_dialer(args: Sequence[str], env: dict[str, str], timeout_s: float = RUN_TIMEOUT_S) -> Done:
    started = time.monotonic()
    proc = subprocess.run(
        [str(DIALER), *args],
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout_s,
        check=False,
    )
    return Done(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)


def wait_until(condition: Callable[[], bool], *, timeout_s: float, what: str) -> float:
    """Poll `condition` until it holds; fail the test after `timeout_s`. Returns seconds waited."""
    started = time.monotonic()
    deadline = started + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        threading.Event().wait(POLL_INTERVAL_S)
    return time.monotonic() - started


class DialerProcess:
    """A `dialer` subprocess left running; its output is collected by reader threads."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.started = time.monotonic()
        self._stdout: list[str] = []
        self._stderr: list[str] = []
        self._readers = [
            _reader(proc.stdout, self._stdout),
            _reader(proc.stderr, self._stderr),
        ]

    @classmethod
    def start(
        cls, args: Sequence[str], env: dict[str, str], *, sigint_ignored: bool = False
    ) -> DialerProcess:
        """`sigint_ignored`: started as a shell script's background job is, with SIGINT ignored
        (the shell execs the command, so the process is the dialer's)."""
        command = [str(DIALER), *args]
        if sigint_ignored:
            command = ["sh", "-c", "trap '' INT; exec \"$@\"", "sh", *command]
        proc = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        return cls(proc)

    def output(self) -> str:
        return "".join(self._stdout) + "".join(self._stderr)

    def interrupt(self) -> None:
        """Ctrl-C, as a terminal sends it."""
        self.proc.send_signal(signal.SIGINT)

    def kill(self) -> None:
        """SIGKILL: no handler, no cleanup, as a crash or an OOM kill."""
        self.proc.kill()

    def wait(self, timeout_s: float = RUN_TIMEOUT_S) -> Done:
        try:
            returncode = self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(
                f"dialer did not exit within {timeout_s} s; output:\n{self.output()}"
            ) from None
        for reader in self._readers:
            reader.join(timeout=5)
        seconds = time.monotonic() - self.started
        return Done(returncode, "".join(self._stdout), "".join(self._stderr), seconds)

    def ensure_stopped(self) -> None:
        """For `finally:` blocks: never leave a dialer running after a failed test."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _reader(stream: IO[str] | None, lines: list[str]) -> threading.Thread:
    def read() -> None:
        if stream is None:
            return
        for line in stream:
            lines.append(line)
        stream.close()

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread
