"""The measured cause of a missed million-row target, printed beside it (issue 16: "each miss
with its measured cause").

Two kinds of evidence, both from the same bench run:
- the floor: when the floor alone (pandas, the plain phonenumbers loop, `python -c pass`) is
  already over the target on this machine, no program doing the same work could meet it here;
- a profile: the missed job run again under cProfile on a sample of the same data (the first
  PROFILE_ROWS rows of the list, a store of as many rows), its own CPU time (pstats tottime)
  grouped by where it goes: a package (phonenumbers, xlsxwriter, redis), a C module (the csv
  writer, sqlite3, json) or a file of this project. For the CLI start, `python -X importtime`:
  the packages whose imports the command adds to `python -c pass`.
A probe that fails says "cause not measured: why"; it never fails the bench.
"""

from __future__ import annotations

import os
import pstats
import re
import subprocess
import sys
import sysconfig
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.bench.celery_runs import REPO_ROOT

PROFILE_ROWS = 20_000
PROFILE_TIMEOUT_S = 300.0
TOP_GROUPS = 4
# a C function as cProfile names it: "<method 'writerows' of '_csv.writer' objects>" or
# "<built-in method _json.loads>"
_C_METHOD = re.compile(r"<method '[^']+' of '(?:(?P<module>[\w.]+)\.)?[\w]+' objects>")
_C_FUNCTION = re.compile(r"<built-in method (?:(?P<module>[\w.]+)\.)?\w+>")
_C_GROUPS = {
    "_csv": "csv module (C)",
    "sqlite3": "sqlite3",
    "_sqlite3": "sqlite3",
    "_json": "json",
    "_io": "file I/O",
    "zlib": "zip compression",
    "_pickle": "pickle",
    "_socket": "sockets",
    "select": "sockets",
    "_pandas": "pandas",
}
# standard library modules whose time is their own (the others' goes to their callers)
_STDLIB_GROUPS = {
    "csv": "csv module",
    "json": "json",
    "sqlite3": "sqlite3",
    "zipfile": "zip compression",
    "_strptime": "date parsing",
    "datetime": "date parsing",
    "xml": "xml",
}
IMPORTS = "imports"  # a start cost, not per row: left out of the shares
GENERIC = ""  # compile, len, re, typing...: its time goes to its callers
_STDLIB = Path(sysconfig.get_paths()["stdlib"]).resolve()


def floor_cause(
    figure_s: float, floor: Mapping[str, Any], floor_name: str, target_s: float
) -> dict[str, Any]:
    """How the job's floor, measured in the same run, stands against the time target."""
    floor_s, floor_cpu_s = floor["elapsed_s"], floor.get("cpu_s")
    over = floor_s > target_s
    if over:
        cpu = f" ({floor_cpu_s:.1f} s CPU)" if floor_cpu_s else ""
        text = (
            f"the floor alone, {floor_name} {floor_s:.2f} s{cpu}, is over the {target_s:g} s "
            "target on this machine"
        )
    else:
        text = (
            f"the floor, {floor_name} {floor_s:.2f} s, is under the {target_s:g} s target: the "
            f"job's own cost, {figure_s / floor_s if floor_s > 0 else float('inf'):.1f}x its floor"
        )
    return {"text": text, "floor_s": floor_s, "floor_cpu_s": floor_cpu_s, "over_target": over}


def profile_cause(
    name: str, argv: Sequence[str], env: Mapping[str, str], out: Path, rows: int
) -> dict[str, Any]:
    """Run `argv` (a script and its arguments, or `-m module ...`) under cProfile; its CPU
    grouped by where it goes, or why it was not measured."""
    command = [sys.executable, "-m", "cProfile", "-o", str(out), *argv]
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DIALER_", "REDIS_URL"))}
    try:
        done = subprocess.run(
            command,
            env=clean | dict(env),
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=PROFILE_TIMEOUT_S,
        )
        if done.returncode != 0 or not out.exists():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return unmeasured(f"the profiled {name} failed ({done.returncode}): {last}")
        groups, total_s = grouped_profile(pstats.Stats(str(out)))
    except (OSError, subprocess.SubprocessError, ValueError, TypeError, EOFError) as exc:
        return unmeasured(f"{type(exc).__name__}: {exc}")
    imports_s = groups.pop(IMPORTS, 0.0)
    work_s = total_s - imports_s
    if work_s <= 0:
        return unmeasured("the profile recorded no time")
    return {
        "text": f"profile ({_size(rows)} rows, {work_s:.1f} s CPU after {imports_s:.1f} s of "
        f"imports): {_shares(groups, work_s)}",
        "rows": rows,
        "profiled_cpu_s": work_s,
        "imports_cpu_s": imports_s,
        "groups_s": dict(list(groups.items())[:10]),
    }


Key = tuple[str, int, str]  # pstats: (file, line, function)


def grouped_profile(stats: pstats.Stats) -> tuple[dict[str, float], float]:
    """Each group's own time (tottime), largest first, and the total. The time of a generic
    function (a C builtin such as compile or len, the standard library's re, typing,
    dataclasses...) counts for the groups of its callers, in proportion to the time spent
    under each: a regex that phonenumbers runs is phonenumbers' time, one compiled while a
    module is imported is the imports'."""
    entries: Mapping[Key, tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    owners: dict[Key, dict[str, float]] = {}
    groups: dict[str, float] = {}
    for key, (_, _, tottime_s, *_rest) in entries.items():
        for group, fraction in _owners(key, entries, owners, set()).items():
            groups[group] = groups.get(group, 0.0) + tottime_s * fraction
    ordered = dict(sorted(groups.items(), key=lambda item: item[1], reverse=True))
    return ordered, sum(ordered.values())


def _owners(
    key: Key,
    entries: Mapping[Key, tuple[Any, ...]],
    known: dict[Key, dict[str, float]],
    seen: set[Key],
) -> dict[str, float]:
    """The groups a function's time belongs to, each with its fraction."""
    if key in known:
        return known[key]
    if key in seen:  # a recursive call: its time goes to the outer callers
        return {}
    group = group_of(key[0], key[2])
    callers: Mapping[Key, tuple[Any, ...]] = entries[key][4] if key in entries else {}
    shares: dict[str, float] = {}
    if group == GENERIC:
        for caller, timing in callers.items():
            for owner, fraction in _owners(caller, entries, known, seen | {key}).items():
                shares[owner] = shares.get(owner, 0.0) + fraction * timing[3]
    total = sum(shares.values())
    if total <= 0:  # its own group, or no caller profiled (a builtin's own)
        known[key] = {group or "builtins": 1.0}
    else:
        known[key] = {owner: share / total for owner, share in shares.items()}
    return known[key]


def group_of(filename: str, function: str) -> str:
    """Where a profiled function belongs: a package, a C module, a file of this project, or
    GENERIC for one whose time is its caller's."""
    if filename == "~":  # a C function
        match = _C_METHOD.fullmatch(function) or _C_FUNCTION.fullmatch(function)
        module = (match.group("module") if match else None) or "builtins"
        return _C_GROUPS.get(module, GENERIC)
    if filename.startswith("<frozen") or function == "<module>":
        return IMPORTS
    path = Path(filename).resolve()
    if "site-packages" in path.parts:
        return path.parts[path.parts.index("site-packages") + 1].removesuffix(".py")
    if path.is_relative_to(REPO_ROOT):
        return str(path.relative_to(REPO_ROOT))
    if path.is_relative_to(_STDLIB):
        module = path.relative_to(_STDLIB).parts[0].removesuffix(".py")
        if module == "importlib":
            return IMPORTS
        return _STDLIB_GROUPS.get(module, GENERIC)
    return "other"


def import_cause(argv: Sequence[str]) -> dict[str, Any]:
    """The packages whose imports cost `argv` (a Python script and its arguments) most beyond
    `python -c pass`'s, from `python -X importtime`."""
    try:
        base = _top_imports([sys.executable, "-X", "importtime", "-c", "pass"])
        mine = _top_imports([sys.executable, "-X", "importtime", *argv])
    except (OSError, subprocess.SubprocessError) as exc:
        return unmeasured(f"{type(exc).__name__}: {exc}")
    added = {name: us for name, us in mine.items() if name not in base}
    if not added:
        return unmeasured("python -X importtime listed no import")
    top = sorted(added.items(), key=lambda item: item[1], reverse=True)[:TOP_GROUPS]
    listed = ", ".join(f"{name} {us / 1000:.0f} ms" for name, us in top)
    total_ms = sum(added.values()) / 1000
    return {
        "text": f"imports over python -c pass {total_ms:.0f} ms: {listed}",
        "imports_ms": {name: us / 1000 for name, us in top},
        "added_imports_ms": total_ms,
    }


def _top_imports(command: list[str]) -> dict[str, int]:
    """Each top-level package's import time (the sum of its modules' own microseconds)."""
    done = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    imports: dict[str, int] = {}
    for line in done.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue
        package = parts[2].strip().split(".")[0]
        imports[package] = imports.get(package, 0) + int(parts[0])
    return imports


def joined(*causes: Mapping[str, Any]) -> str:
    return "; ".join(str(cause["text"]) for cause in causes)


def _shares(groups: Mapping[str, float], total_s: float) -> str:
    top = list(groups.items())[:TOP_GROUPS]
    return ", ".join(f"{name} {100 * seconds / total_s:.0f}%" for name, seconds in top)


def unmeasured(why: str) -> dict[str, Any]:
    return {"text": f"cause not measured: {why}", "error": why}


def _size(rows: int) -> str:
    return f"{rows // 1000}k" if rows >= 1000 else str(rows)
