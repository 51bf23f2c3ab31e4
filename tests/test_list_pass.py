"""The list pass: numbers read by worker processes give the same rows, plan and report as one
process, on the messy test lists (forced into chunks of a few rows) and a generated 100k-row
list of mixed formats; the pass reads a bounded distance ahead; a bad row still stops it with
the message that names it."""

from __future__ import annotations

import csv
import os
import signal
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import pytest

from campaigns.dialing.windows import CallingWindow
from campaigns.lists.contacts import ContactList, ListOptions, open_contact_list
from campaigns.lists.list_pass import read_list
from campaigns.plan import PlanTally, build_plan, dry_run
from campaigns.report.rows import dry_run_rows
from campaigns.report.summary_sheet import ReportInfo
from campaigns.report.writer import write_report
from campaigns.store.rows import NewRow
from dialer.errors import InputError
from tests.bench.big_list import write_big_list
from tests.test_contacts import GOOD_FILES

WINDOW = CallingWindow.parse("08:00-21:00")
NOW = 1_700_000_000.0  # a fixed instant: plans compared across passes must not drift
INFO = ReportInfo("", "agent_x", "list.csv", "dry run", None, None)


def parallel(contacts: ContactList, chunk_rows: int = 3) -> list[NewRow]:
    return list(read_list(contacts, workers=2, chunk_rows=chunk_rows, min_bytes=0))


@pytest.fixture(scope="module")
def big_list(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.csv"
    write_big_list(path, 100_000)
    return path


@pytest.mark.parametrize("path", GOOD_FILES, ids=lambda p: p.name)
def test_messy_lists_read_the_same_in_chunks_on_workers(path: Path, tmp_path: Path) -> None:
    options = ListOptions(suppress=None)
    one = list(open_contact_list(path, options).rows())
    many = parallel(open_contact_list(path, options))
    assert one and many == one


def test_a_100k_list_gives_the_same_rows_plan_and_report(big_list: Path, tmp_path: Path) -> None:
    contacts = open_contact_list(big_list, ListOptions())
    one = list(contacts.rows())
    many = list(read_list(contacts, workers=2, min_bytes=0))
    assert len(many) == 100_000 and many == one
    statuses = {row.status for row in one}
    assert {"pending", "invalid", "duplicate"} <= statuses  # the list exercises every path

    plan_one = build_plan(one, WINDOW, NOW, 1.0, 1.0)
    single = tmp_path / "single.csv"
    write_report(single, list(contacts.headers), dry_run_rows(one), INFO)
    both = tmp_path / "both.csv"
    plan_many = dry_run(contacts, both, INFO, WINDOW, NOW, 1.0, 1.0)
    assert plan_many == plan_one
    assert both.read_bytes() == single.read_bytes()


def test_the_dry_run_reads_the_list_once(big_list: Path, tmp_path: Path) -> None:
    contacts = open_contact_list(big_list, ListOptions())
    passes = 0
    records = contacts.records

    def counted() -> Iterator[tuple[int, list[str]]]:
        nonlocal passes
        passes += 1
        return records()

    contacts.records = counted  # type: ignore[method-assign]
    plan = dry_run(contacts, tmp_path / "out.csv", INFO, WINDOW, NOW, 1.0, 1.0)
    assert passes == 1 and plan.rows_read == 100_000
    with (tmp_path / "out.csv").open(encoding="utf-8-sig", newline="") as file:
        assert sum(1 for _ in csv.reader(file)) == 100_001


def test_the_pass_reads_a_bounded_distance_ahead(big_list: Path) -> None:
    contacts = open_contact_list(big_list, ListOptions())
    taken = 0
    records = contacts.records

    def counted() -> Iterator[tuple[int, list[str]]]:
        nonlocal taken
        for record in records():
            taken += 1
            yield record

    contacts.records = counted  # type: ignore[method-assign]
    rows = read_list(contacts, workers=2, chunk_rows=1000, min_bytes=0)
    first = list(islice(rows, 10))
    assert [row.idx for row in first] == list(range(10))
    assert taken <= 5 * 1000  # 2 workers x 2 chunks ahead, and the chunk being handed on
    rows.close()  # type: ignore[attr-defined]


def test_a_bad_row_stops_the_parallel_pass_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    lines = ["id,phone"] + [f"{i},+1212555{i % 10000:04d}" for i in range(5000)]
    lines[4001] = "4000,+12125550100,surprise"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    contacts = open_contact_list(path, ListOptions())
    with pytest.raises(InputError, match="row 4002 has 3 cells"):
        parallel(contacts, chunk_rows=500)


def test_the_tally_counts_as_build_plan_does(big_list: Path) -> None:
    rows = list(islice(open_contact_list(big_list, ListOptions()).rows(), 5000))
    tally = PlanTally()
    assert list(tally.counted(rows)) == rows
    assert tally.plan(WINDOW, NOW, 1.0, 1.0) == build_plan(rows, WINDOW, NOW, 1.0, 1.0)


def spawned_workers() -> list[int]:
    """This process's children started by multiprocessing's spawn (the pool's workers)."""
    pids = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        for pid in (task / "children").read_text().split():
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if b"from multiprocessing.spawn import spawn_main" in b" ".join(command):
                pids.append(int(pid))
    return pids


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc (Linux)")
def test_a_worker_killed_midway_loses_and_changes_no_row(big_list: Path) -> None:
    contacts = open_contact_list(big_list, ListOptions())
    rows = read_list(contacts, workers=2, chunk_rows=2000, min_bytes=0)
    first = list(islice(rows, 10))
    workers = spawned_workers()
    assert workers, "no worker process was started"
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    assert first + list(rows) == list(contacts.rows())
