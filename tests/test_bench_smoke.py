"""`make bench`'s pieces in a tiny form, so `make test` exercises them: each measurement runs at
a very small size (real processes, this test process's own Redis database, the simulator over
HTTP) and its result is
checked for shape and sane values. No timing is asserted: that is the bench's job."""

from __future__ import annotations

import cProfile
import csv
import io
import json
import pstats
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bench import causes, ceiling, economy, million, pacing, redis_db, scale
from tests.bench.redis_db import MARKER_KEY, BenchDbs, NotOurDatabase, claim, own_db
from tests.bench.results import EMBEDDED, PLAIN_LOOP, Figure, Results, Target, render_table
from tests.bench.windows import pacing_of, rate_share, worst_window
from tests.redis_support import redis_url, whole_database, worker_db

pytestmark = pytest.mark.integration


@pytest.fixture
def bench_redis(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """The smoke test's database: this test process's own (the bench's are 12 to 14), on the
    tests' Redis server (tests/redis_support.py), emptied before and after."""
    db = worker_db()
    monkeypatch.setattr(redis_db, "REDIS_ROOT_URL", redis_url(db).rsplit("/", 1)[0])
    with whole_database():
        yield db


def dbs(db: int) -> BenchDbs:
    return BenchDbs(cluster=db, celery=db, memory=db)


def by_row(figures: list[Figure]) -> dict[str, dict[str, Figure]]:
    rows: dict[str, dict[str, Figure]] = {}
    for figure in figures:
        rows.setdefault(figure.row, {})[figure.column] = figure
    return rows


# --- the pure parts ---------------------------------------------------------------------------


def test_windows_count_the_most_starts_in_any_window() -> None:
    times = [0.0, 0.1, 0.2, 1.05, 1.1, 3.0]
    assert worst_window(times, 1.0) == 3  # [0.1, 1.1) holds 0.1, 0.2, 1.05
    assert worst_window(times, 0.01) == 1
    assert worst_window([], 1.0) == 0
    assert rate_share([0.0, 0.5, 1.0], rate_per_s=2.0) == pytest.approx(1.0)
    paced = pacing_of([i / 10 for i in range(11)], rate_per_s=10.0, windows_s=(1.0,))
    assert paced.share == pytest.approx(1.0) and paced.worst_by_window_s == {1.0: 10}
    assert paced.bound(1.0) == 11


def test_targets_and_the_table() -> None:
    target = Target("<= 1.5", {"requests_per_call": (None, 1.5)})
    met = Figure("economy", EMBEDDED, {"requests_per_call": 1.2}, "1.20", target)
    missed = Figure("economy", PLAIN_LOOP, {"requests_per_call": 26.0}, "26.00", target)
    assert met.met is True and missed.met is False
    table = render_table([met, missed])
    assert "1.20 ok" in table and "26.00 MISS" in table and "<= 1.5" in table
    results = Results()
    results.add([met], "economy", {"n": 1})
    assert results.details == {"economy": {"n": 1}} and met.to_json()["met"] is True


def test_a_profile_is_grouped_by_where_the_time_goes() -> None:
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(200):
        csv.writer(io.StringIO()).writerows([["a", "b,c"]] * 200)
        json.loads(json.dumps([["cell"] * 50] * 50))
    profile.disable()
    groups, total_s = causes.grouped_profile(pstats.Stats(profile))
    assert total_s > 0 and {"csv module (C)", "json"} <= set(groups)
    assert causes.GENERIC not in groups  # len, exec...: counted for their callers
    site = "/x/.venv/lib/python3.11/site-packages/phonenumbers/phonenumberutil.py"
    assert causes.group_of(site, "parse") == "phonenumbers"
    assert causes.group_of(causes.__file__, "profile_cause") == "tests/bench/causes.py"
    assert causes.group_of("~", "<method 'execute' of 'sqlite3.Cursor' objects>") == "sqlite3"


def test_a_floor_over_the_target_is_said_and_a_failed_probe_never_raises(
    tmp_path: Path,
) -> None:
    floor = {"elapsed_s": 108.0, "cpu_s": 80.6}
    over = causes.floor_cause(187.0, floor, "pandas + phonenumbers", 30)
    assert over["over_target"] and "the floor alone, pandas + phonenumbers 108.00 s" in over["text"]
    assert "over the 30 s target" in over["text"]
    under = causes.floor_cause(20.0, {"elapsed_s": 5.0}, "pandas", 10)
    assert not under["over_target"] and "4.0x its floor" in under["text"]
    failed = causes.profile_cause(
        "a job", ["-c", "raise SystemExit(3)"], {}, tmp_path / "none.prof", 10
    )
    assert failed["text"].startswith("cause not measured: ")
    missing = causes.profile_cause("a job", [str(tmp_path / "absent.py")], {}, tmp_path / "p", 1)
    assert missing["text"].startswith("cause not measured: ")
    started = causes.import_cause([str(Path(sys.executable).with_name("dialer")), "--version"])
    assert started["text"].startswith("imports over python -c pass") and "dialer" in started["text"]


def test_a_database_holding_other_keys_is_never_flushed(bench_redis: int) -> None:
    with own_db(bench_redis) as client:  # refuses, and flushes nothing, if it holds others' keys
        client.delete(MARKER_KEY)
        client.set("someone-else", "1")  # as if another program used the database
        with pytest.raises(NotOurDatabase):
            claim(client, bench_redis)
        assert client.get("someone-else") == "1"
        client.delete("someone-else")
        claim(client, bench_redis)
        assert client.get(MARKER_KEY)
        with pytest.raises(NotOurDatabase):
            claim(client, 0)


# --- each measurement, tiny -------------------------------------------------------------------


def test_pacing(bench_redis: int, tmp_path: Path) -> None:
    # no cluster here: test_ceiling runs `dialer worker` processes already
    setup = pacing.PacingSetup(
        rows=8, agent_rate_per_s=50, account_rate_per_s=40, cluster_workers=()
    )
    figures, detail = pacing.measure(setup, tmp_path, dbs(bench_redis))
    rows = by_row(figures)
    shares = rows["pacing: share of allowed rate"]
    assert set(shares) == {"embedded", "rate_limit 2w", "plain loop"}
    said = {k: f.values for k, f in shares.items()}
    assert all(f.values["share"] > 0.2 for f in shares.values()), said
    assert shares["embedded"].values["share"] < 1.5  # the dialer's pacing never bursts
    assert all(f.values["numbers"] == 0 for f in rows["pacing: numbers phoned twice"].values())
    assert all(run["calls"] == 8 for run in detail["runs"])


def test_economy(bench_redis: int, tmp_path: Path) -> None:
    figures, detail = economy.measure(
        economy.EconomySetup(dialer_calls=10, plain_loop_calls=1), tmp_path
    )
    per_call = by_row(figures)["economy: requests per call"]
    assert 1.0 <= per_call["embedded"].values["requests_per_call"] < 10
    assert per_call["plain loop"].values["requests_per_call"] > 10  # polls every 5 s of 2 min
    assert all(run["completed"] == run["calls"] for run in detail["runs"])


def test_ceiling(bench_redis: int, tmp_path: Path) -> None:
    setup = ceiling.CeilingSetup(dialer_calls=30, noop_tasks=200)
    figures, detail = ceiling.measure(setup, tmp_path, dbs(bench_redis))
    rates = by_row(figures)["ceiling: calls/s (no-op: tasks/s)"]
    assert set(rates) == {"embedded", "cluster 2w", "no-op 2w"}
    assert all(f.values["per_s"] > 0 for f in rates.values())
    assert "ceiling: share of the no-op" in by_row(figures)
    assert detail["setup"]["dialer_calls"] == 30


def test_scale(bench_redis: int, tmp_path: Path) -> None:
    figures, detail = scale.measure(
        scale.ScaleSetup(sizes=(300,), redis_rows=300), tmp_path, bench_redis
    )
    jobs = detail["jobs"]["300"]
    assert set(jobs) == {"dry run", "CSV report", "XLSX report"}
    assert all(j["elapsed_s"] > 0 and 10 < j["peak_rss_mb"] < 1000 for j in jobs.values())
    assert 100 < detail["redis"]["used_memory_per_row"] < 10_000
    assert len(figures) == 4


def test_million_at_a_small_size(bench_redis: int, tmp_path: Path) -> None:
    setup = million.MillionSetup(rows=300, causes=True)  # each figure's cause, though not judged
    figures, detail = million.measure(setup, tmp_path, bench_redis)
    jobs = detail["jobs"]
    measured = {"pandas", "phonenumbers", "dry run + CSV", "CSV report", "XLSX report"}
    assert measured | {"Redis load", "CLI start", "CLI help", "python start"} == set(jobs)
    assert all(jobs[name]["returncode"] == 0 and jobs[name]["cpu_s"] > 0 for name in measured)
    assert all(job["elapsed_s"] > 0 for job in jobs.values())
    rows = {figure.row for figure in figures}
    assert "dry run + CSV 300: time, peak RSS" in rows and "CLI start: time, peak RSS" in rows
    assert all("ratio" in f.note for f in figures if f.row.endswith("time, peak RSS"))
    probed = {f.row: f for f in figures if f.cause}
    assert len(probed) == 6, probed  # four jobs, the CLI's --version and --help
    said = {row: f.cause for row, f in probed.items()}
    assert all("the floor" in f.cause and "not measured" not in f.cause for f in probed.values())
    assert all(
        "profile (300 rows" in said[f"{n} 300: time, peak RSS"]
        for n in million.TARGETS
        if n != "CLI start"
    ), said
    assert probed["CLI start: time, peak RSS"].to_json()["cause_detail"]["probe"]["imports_ms"]
