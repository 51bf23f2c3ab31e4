"""The dry-run plan: counts, zones and when they open, the pace and the run time."""

from __future__ import annotations

import csv
import os
import random
import resource
import time
from pathlib import Path

import pytest

from campaigns.dialing.windows import CallingWindow
from campaigns.lists.contacts import ListOptions
from campaigns.plan import REQUESTS_PER_CALL, build_plan, format_plan, plan_contact_list
from campaigns.store.rows import NewRow, RowStatus

NOON_UTC = 1_719_835_200.0  # 2024-07-01 12:00 UTC: 08:00 in New York, 05:00 in Los Angeles


def row(idx: int, status: RowStatus, zones: tuple[str, ...] = ()) -> NewRow:
    return NewRow(idx, [], "+12125550100" if zones else "", status, zones=zones)


def test_counts_zones_openings_and_run_time() -> None:
    rows = [
        row(0, RowStatus.PENDING, ("America/New_York",)),
        row(1, RowStatus.PENDING, ("America/New_York",)),
        row(2, RowStatus.PENDING, ("America/Los_Angeles",)),
        row(3, RowStatus.INVALID),
        row(4, RowStatus.DUPLICATE, ("America/New_York",)),
    ]
    plan = build_plan(rows, CallingWindow.parse("08:00-21:00"), NOON_UTC, 100 / 60, 1000 / 3600)
    assert plan.rows_read == 5
    assert plan.counts == {"ready": 3, "invalid": 1, "duplicate": 1, "suppressed": 0}
    assert [(z.zone, z.ready_rows) for z in plan.zones] == [
        ("America/New_York", 2),
        ("America/Los_Angeles", 1),
    ]
    assert plan.zones[0].opens_at == NOON_UTC
    assert plan.zones[1].opens_at == NOON_UTC + 3 * 3600
    assert plan.rate_per_s == pytest.approx(1000 / 3600 / REQUESTS_PER_CALL)
    assert plan.limited_by == "the account's request limit"
    assert plan.estimated_run_s == pytest.approx(3 / plan.rate_per_s)
    text = format_plan(plan)
    assert "open now" in text and "opens in 3h 00m" in text and "request limit" in text


def test_the_slowest_rate_wins_and_never_open_rows_are_counted() -> None:
    hour = CallingWindow.parse("08:00-09:00")
    rows = [row(0, RowStatus.PENDING, ("Pacific/Kiritimati", "Pacific/Pago_Pago"))]
    plan = build_plan(rows, hour, NOON_UTC, 10.0, 100.0, agent_rate_per_s=0.5)
    assert (plan.rate_per_s, plan.limited_by) == (0.5, "this agent's --rate")
    assert plan.never_open_rows == 1
    assert "never all inside the window" in format_plan(plan)


def test_one_row_one_call_in_the_singular() -> None:
    window = CallingWindow.parse("08:00-09:00")
    one = [row(0, RowStatus.PENDING, ("Pacific/Kiritimati", "Pacific/Pago_Pago"))]
    text = format_plan(build_plan(one, window, NOON_UTC, 10.0, 100.0))
    assert "Dry run: nobody is called. 1 row read." in text
    assert " for 1 call, longer where windows close." in text
    assert "1 ready row has zones that are never all inside the window together: it would" in text
    assert "1 rows" not in text and "1 calls" not in text and "1 ready rows" not in text
    two = [*one, row(1, RowStatus.PENDING, ("Pacific/Kiritimati", "Pacific/Pago_Pago"))]
    text = format_plan(build_plan(two, window, NOON_UTC, 10.0, 100.0))
    assert "2 rows read." in text and " for 2 calls," in text
    assert "2 ready rows have zones that are never all inside the window together: they" in text
    many = [row(i, RowStatus.INVALID) for i in range(1001)]
    assert "1,001 rows read." in format_plan(build_plan(many, window, NOON_UTC, 10.0, 100.0))


def write_large_list(path: Path, rows: int, seed: int = 1) -> None:
    """A generated list for the benchmark: US and Canadian numbers in four written forms."""
    rng = random.Random(seed)
    areas = [212, 415, 312, 713, 305, 206, 617, 303, 602, 404, 604, 416, 514]
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["id", "phone", "first_name", "last_name", "email", "zip"])
        for i in range(rows):
            digits = f"{rng.choice(areas)}{rng.randrange(200, 999)}{rng.randrange(10_000):04d}"
            forms = [
                f"+1{digits}",
                f"({digits[:3]}) {digits[3:6]}-{digits[6:]}",
                f"{digits[:3]}.{digits[3:6]}.{digits[6:]}",
                digits,
            ]
            zip_code = f"{rng.randrange(100_000):05d}"
            writer.writerow(
                [f"{i:07d}", forms[i % 4], "Ann", "O'Neil, Jr", f"a{i}@x.org", zip_code]
            )


def benchmark_dry_run(path: Path) -> tuple[float, float]:
    """Plan a list as `dialer run --dry-run` does: (seconds taken, peak RSS in MB)."""
    started = time.perf_counter()
    plan = plan_contact_list(path, ListOptions(), CallingWindow.parse("08:00-21:00"), 1.0, 1.0)
    assert plan.rows_read > 0
    return time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.skipif(not os.environ.get("DIALER_BENCH"), reason="set DIALER_BENCH=1 (about 40 s)")
def test_a_million_rows_plan_within_45_s_and_1_5_gb(tmp_path: Path) -> None:
    path = tmp_path / "million.csv"
    write_large_list(path, 1_000_000)
    seconds, peak_mb = benchmark_dry_run(path)
    assert seconds < 45 and peak_mb < 1536, (seconds, peak_mb)


def test_the_benchmark_helpers_on_a_small_list(tmp_path: Path) -> None:
    path = tmp_path / "small.csv"
    write_large_list(path, 200)
    seconds, peak_mb = benchmark_dry_run(path)
    assert seconds < 5 and peak_mb > 0
