"""Hostile list files through `dialer run --dry-run`, each in a child process held to limits:
the right answer, no traceback, and bounded time and memory read from the child's own
resource usage (os.wait4), with RLIMIT_AS and RLIMIT_CPU as a backstop."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli_support import DIALER, dialer_env
from tests.corpus.hostile.make_hostile import CASES, make_all

MEMORY_LIMIT_BYTES = 2 << 30  # address space; the interpreter and its imports take ~400 MB
CPU_LIMIT_S = 60
MAX_RSS_KB = 250 * 1024  # what a dry run of a small list may use
MAX_CPU_S = 15.0  # on a loaded 2-core machine; each case needs well under a second of work


@dataclass(frozen=True)
class Child:
    exit_code: int
    stdout: str
    stderr: str
    max_rss_kb: int
    cpu_s: float


# The command runs under a small launcher that forks it and reports its usage: a process's
# peak RSS (what wait4 reports) starts at its parent's when it is forked (and at exec), and this
# test process, after a long session, is past the bound itself.
_LAUNCHER = f"""
import os, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT_BYTES}, {MEMORY_LIMIT_BYTES}))
resource.setrlimit(resource.RLIMIT_CPU, ({CPU_LIMIT_S}, {CPU_LIMIT_S}))
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(f"{{usage.ru_maxrss}} {{usage.ru_utime + usage.ru_stime}}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def _launched(usage_file: Path, command: list[str]) -> list[str]:
    return ["/usr/bin/python3", "-S", "-c", _LAUNCHER, str(usage_file), *command]


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Child]:
    tmp = tmp_path_factory.mktemp("hostile")
    paths = make_all(tmp / "files")
    env = dialer_env(tmp / "home")
    started = {}
    for name, path in paths.items():
        out, err = (tmp / f"{name}.out").open("w"), (tmp / f"{name}.err").open("w")
        command = [str(DIALER), "run", str(path), "--agent", "a", "--dry-run"]
        command += ["--report", str(tmp / f"{name}.outcomes.csv")]
        usage_file = tmp / f"{name}.usage"
        proc = subprocess.Popen(_launched(usage_file, command), env=env, stdout=out, stderr=err)
        started[name] = (proc, out, err)
    answers = {}
    for name, (proc, out, err) in started.items():
        proc.wait()
        out.close()
        err.close()
        rss_kb, cpu_s = (tmp / f"{name}.usage").read_text().split()
        answers[name] = Child(
            proc.returncode,
            (tmp / f"{name}.out").read_text(),
            (tmp / f"{name}.err").read_text(),
            int(rss_kb),
            float(cpu_s),
        )
    return answers


@pytest.mark.integration
@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_file_is_answered_within_bounds(name: str, answers: dict[str, Child]) -> None:
    case, child = CASES[name], answers[name]
    said = child.stdout + child.stderr
    assert child.exit_code == case.exit_code, said
    assert "Traceback" not in said
    assert case.says in (child.stderr if case.exit_code == 2 else child.stdout), said
    if case.exit_code == 2:
        assert child.stderr.startswith("error: ") and child.stderr.count("\n") == 1, said
        if name.endswith(".xlsx"):  # a refused workbook: what a person can do with it
            assert "save" in child.stderr, said
    assert child.max_rss_kb < MAX_RSS_KB, f"{name}: {child.max_rss_kb} KB"
    assert child.cpu_s < MAX_CPU_S, f"{name}: {child.cpu_s:.1f} s of CPU"


def test_the_hostile_files_are_small_on_disk_but_not_the_line(tmp_path: Path) -> None:
    """They are generated, not committed; the archives stay small."""
    paths = make_all(tmp_path)
    for name, path in paths.items():
        if name.endswith(".xlsx"):
            assert path.stat().st_size < 300_000, name
