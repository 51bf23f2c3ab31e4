"""Measurement 5, a million rows (issue 16): each target beside its floor, the least a program
could spend on the same work on this machine.

On a 1M-row list of mixed real-world formats (tests/bench/big_list.py), each job in a process
of its own under `tests.bench.measure` (wall time, CPU time of the job and its workers, peak
RSS):
- `dialer run LIST --dry-run --report out.csv` (the plan and its CSV report, one pass);
  floors: pandas `read_csv` + `to_csv` of the list, and a plain phonenumbers loop over its
  numbers (parse + is_valid_number);
- `dialer report` of a finished 1M-row campaign in SQLite, CSV and XLSX; floor: pandas;
- loading the list into the Redis store (read, judge, store, as a cluster run does first);
- `dialer --version` and `dialer --help`, best of five; floor: `python -c pass`.
The ratio is figure / floor. The peak RSS is the largest single process (the main one).
Each missed target gets its measured cause (tests/bench/causes.py): its floor against the
target, and a profile of the job on the first 20,000 rows (`causes=True`: every figure's, met
or not, at any size).
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tests.bench import causes
from tests.bench.big_list import write_big_list
from tests.bench.causes import PROFILE_ROWS
from tests.bench.celery_runs import REPO_ROOT
from tests.bench.dialer_runs import DIALER
from tests.bench.procs import Processes, say
from tests.bench.redis_db import own_db
from tests.bench.results import CLUSTER, EMBEDDED, FLOOR, Figure, Target
from tests.bench.scale import _measured
from tests.bench.scale_job import CAMPAIGN, make_store

MILLION = 1_000_000
TARGETS = {
    "dry run + CSV": Target(
        "<= 30 s, <= 1 GB", {"elapsed_s": (None, 30), "peak_rss_mb": (None, 1024)}
    ),
    "CSV report": Target("<= 10 s", {"elapsed_s": (None, 10)}),
    "XLSX report": Target("<= 60 s", {"elapsed_s": (None, 60)}),
    "Redis load": Target("<= 60 s", {"elapsed_s": (None, 60)}),
    "CLI start": Target("<= 0.3 s", {"elapsed_s": (None, 0.3)}),
}
START_RUNS = 5


@dataclass(frozen=True)
class MillionSetup:
    rows: int = MILLION
    job_timeout_s: float = 600.0
    causes: bool = False  # measure every figure's cause, not only a missed target's
    profile_rows: int = PROFILE_ROWS


def measure(setup: MillionSetup, work: Path, db: int) -> tuple[list[Figure], dict[str, Any]]:
    size = _size(setup.rows)
    contacts = work / f"big-{setup.rows}.csv"
    write_big_list(contacts, setup.rows)
    jobs: dict[str, dict[str, Any]] = {}
    with Processes(work / "logs") as procs:

        def job(name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
            jobs[name] = _measured(procs, name, argv, env or {}, setup.job_timeout_s)

        python = [sys.executable, "-m", "tests.bench.million_job"]
        job("pandas", [*python, "pandas", str(contacts), str(work / "pandas.csv")])
        job("phonenumbers", [*python, "phonenumbers", str(contacts)])
        dry = [DIALER, "run", str(contacts), "--agent", "agent_bench", "--dry-run"]
        job("dry run + CSV", [*dry, "--report", str(work / "dry.csv")])
        home = work / "store"
        make_store(setup.rows, home)
        for kind in ("csv", "xlsx"):
            report = [DIALER, "report", CAMPAIGN, "--out", str(home / f"report.{kind}")]
            job(f"{kind.upper()} report", report, {"DIALER_HOME": str(home)})
        shutil.rmtree(home)
        with own_db(db):  # claimed and flushed before and after
            job("Redis load", [*python, "load-redis", str(contacts), str(db)])
    jobs["CLI start"] = _start_time([DIALER, "--version"])
    jobs["CLI help"] = _start_time([DIALER, "--help"])
    jobs["python start"] = _start_time([sys.executable, "-c", "pass"])
    figures = _figures(jobs, size, setup.rows == MILLION)
    job_of = {_row_of(name, size): name for name in (*TARGETS, "CLI help")}
    probed = [f for f in figures if f.row in job_of and (setup.causes or f.met is False)]
    if probed:
        found = _causes([job_of[f.row] for f in probed], jobs, setup, work, contacts, db)
        figures = [_with_cause(f, found[job_of[f.row]]) if f in probed else f for f in figures]
    return figures, {"rows": setup.rows, "jobs": jobs}


def _row_of(name: str, size: str) -> str:
    """The table row of a job's figure."""
    if name == "CLI help":
        return "CLI --help: time"
    return f"{name if name == 'CLI start' else f'{name} {size}'}: time, peak RSS"


def _causes(
    names: list[str],
    jobs: dict[str, dict[str, Any]],
    setup: MillionSetup,
    work: Path,
    contacts: Path,
    db: int,
) -> dict[str, dict[str, Any]]:
    """Each named job's cause: its floor against the target, then a profile of the job on the
    first `profile_rows` rows (a store of as many rows for the reports). A probe that fails
    says why; it never fails the measurement."""
    say(f"million: causes of {', '.join(names)}")
    rows = min(setup.profile_rows, setup.rows)
    sample, home = work / f"sample-{rows}.csv", work / "probe-store"
    found: dict[str, dict[str, Any]] = {}
    for name in names:
        floor = _floor_evidence(name, jobs)
        try:
            if not sample.exists():
                _sample(contacts, sample, rows)
            probe = _probe(name, sample, rows, work, home, db)
        except Exception as exc:  # the figure stands without its cause
            probe = causes.unmeasured(f"{type(exc).__name__}: {exc}")
        found[name] = {"floor": floor, "probe": probe, "text": causes.joined(floor, probe)}
        say(f"  {name}: {found[name]['text']}")
    shutil.rmtree(home, ignore_errors=True)
    return found


def _floor_evidence(name: str, jobs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    floor_job, floor_name = _floor_of(name, jobs)
    bounds = TARGETS["CLI start" if name == "CLI help" else name].bounds
    floor = causes.floor_cause(
        jobs[name]["elapsed_s"], floor_job, floor_name, bounds["elapsed_s"][1] or 0
    )
    rss_mb, most_mb = jobs[name]["peak_rss_mb"], bounds.get("peak_rss_mb", (None, None))[1]
    if most_mb is not None and rss_mb > most_mb:
        floor["text"] += f"; peak RSS {rss_mb:.0f} MB, over the {most_mb:.0f} MB target"
    return floor


def _probe(name: str, sample: Path, rows: int, work: Path, home: Path, db: int) -> dict[str, Any]:
    """The job run again under cProfile on the sample (or, for the CLI, its imports)."""
    out = work / f"profile-{name.replace(' ', '-').replace('+', 'and')}.prof"
    if name == "dry run + CSV":
        dry = [DIALER, "run", str(sample), "--agent", "agent_bench", "--dry-run"]
        return causes.profile_cause(
            name, [*dry, "--report", str(work / "probe.csv")], {}, out, rows
        )
    if name in ("CSV report", "XLSX report"):
        if not home.exists():
            make_store(rows, home)
        report = [
            DIALER,
            "report",
            CAMPAIGN,
            "--out",
            str(home / f"probe.{name.split()[0].lower()}"),
        ]
        return causes.profile_cause(name, report, {"DIALER_HOME": str(home)}, out, rows)
    if name == "Redis load":
        with own_db(db):  # claimed and flushed before and after
            load = ["-m", "tests.bench.million_job", "load-redis", str(sample), str(db)]
            return causes.profile_cause(name, load, {}, out, rows)
    return causes.import_cause([DIALER, "--version" if name == "CLI start" else "--help"])


def _floor_of(name: str, jobs: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], str]:
    pandas, numbers = jobs["pandas"], jobs["phonenumbers"]
    if name == "dry run + CSV":
        both = {k: pandas.get(k, 0.0) + numbers.get(k, 0.0) for k in ("elapsed_s", "cpu_s")}
        return both, "pandas + phonenumbers"
    if name in ("CSV report", "XLSX report"):
        return pandas, "pandas read_csv+to_csv"
    if name == "Redis load":
        return numbers, "the phonenumbers loop"
    return jobs["python start"], "python -c pass"


def _sample(contacts: Path, out: Path, rows: int) -> Path:
    """The list's first `rows` rows (its cells may hold newlines: read as CSV)."""
    with (
        contacts.open(encoding="utf-8", newline="") as source,
        out.open("w", encoding="utf-8", newline="") as sample,
    ):
        reader, writer = csv.reader(source), csv.writer(sample)
        for index, cells in enumerate(reader):
            if index > rows:  # the header and `rows` rows
                break
            writer.writerow(cells)
    return out


def _with_cause(figure: Figure, cause: dict[str, Any]) -> Figure:
    detail = {"floor": cause["floor"], "probe": cause["probe"]}
    return replace(figure, cause=cause["text"], cause_detail=detail)


def _figures(jobs: dict[str, dict[str, Any]], size: str, full: bool) -> list[Figure]:
    pandas, numbers = jobs["pandas"], jobs["phonenumbers"]
    floors = {
        "dry run + CSV": (pandas["elapsed_s"] + numbers["elapsed_s"], "pandas + phonenumbers"),
        "CSV report": (pandas["elapsed_s"], "pandas"),
        "XLSX report": (pandas["elapsed_s"], "pandas (CSV)"),
        "Redis load": (numbers["elapsed_s"], "phonenumbers"),
        "CLI start": (jobs["python start"]["elapsed_s"], "python -c pass"),
    }
    figures = [
        _floor_figure(f"floor: pandas read_csv+to_csv {size}", pandas),
        _floor_figure(f"floor: phonenumbers loop {size}", numbers),
    ]
    for name, (floor_s, floor_name) in floors.items():
        result = jobs[name]
        ratio = result["elapsed_s"] / floor_s if floor_s > 0 else float("inf")
        column = CLUSTER if name == "Redis load" else EMBEDDED
        figures.append(
            Figure(
                _row_of(name, size),
                column,
                {"elapsed_s": result["elapsed_s"], "peak_rss_mb": result["peak_rss_mb"]},
                _text(result),
                TARGETS[name] if full or name == "CLI start" else None,
                note=f"floor {floor_name} {floor_s:.2f} s, ratio {ratio:.1f}x; "
                f"CPU {result.get('cpu_s', 0):.1f} s",
            )
        )
    help_s = jobs["CLI help"]["elapsed_s"]
    figures.append(
        Figure(
            _row_of("CLI help", size),
            EMBEDDED,
            {"elapsed_s": help_s},
            f"{help_s:.2f} s",
            TARGETS["CLI start"],
        )
    )
    return figures


def _floor_figure(row: str, result: dict[str, Any]) -> Figure:
    return Figure(row, FLOOR, {"elapsed_s": result["elapsed_s"]}, _text(result))


def _text(result: dict[str, Any]) -> str:
    return f"{result['elapsed_s']:.2f} s {result['peak_rss_mb']:.0f} MB"


def _start_time(argv: list[str]) -> dict[str, Any]:
    """The best of START_RUNS starts: what the command costs, not the machine's other load."""
    times = []
    for _ in range(START_RUNS):
        started = time.perf_counter()
        subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, check=True, timeout=60)
        times.append(time.perf_counter() - started)
    say(f"  {Path(argv[0]).name} {' '.join(argv[1:])}: best {min(times):.3f} s")
    return {"elapsed_s": min(times), "peak_rss_mb": 0.0, "all_s": times}


def _size(rows: int) -> str:
    if rows < 1000:
        return str(rows)
    return f"{rows // MILLION}M" if rows >= MILLION else f"{rows // 1000}k"
