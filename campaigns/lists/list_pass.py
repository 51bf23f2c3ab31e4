"""One pass over a contact list, its numbers read on every core.

Reading phone numbers is most of the cost of a large list (tens of microseconds each, against
a few for the CSV parser and the row's other checks), so a large list's numbers are read in
chunks by worker processes while this process parses the file, judges the rows in order and
hands them on (to the plan and the report, or to the store). What a worker does is a pure
function of the number's text and the region (`PhoneReader.read`), and the rest (duplicates,
suppression, time zone column) is judged here in input order, so the rows are the same as one
process gives: tests/test_list_pass.py compares them.

Bounded: at most `ahead` chunks are read and not yet handed on, whatever the list's size.
A small list is read in this process: starting workers (each imports phonenumbers) costs more
than it saves below about PARALLEL_MIN_BYTES.
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import islice

from campaigns.lists.contacts import ContactList
from campaigns.lists.phone_cells import read_row_phone
from campaigns.lists.phones import PhoneReader, PhoneReading
from campaigns.store.rows import NewRow

PARALLEL_MIN_BYTES = 8 << 20  # about 100,000 rows of a typical CRM export
CHUNK_ROWS = 20_000
_CHUNKS_AHEAD_PER_WORKER = 2
log = logging.getLogger(__name__)


def usable_cores() -> int:
    """The cores this process may run on (a container's limit, not the machine's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def read_list(
    contacts: ContactList,
    *,
    workers: int | None = None,
    chunk_rows: int = CHUNK_ROWS,
    min_bytes: int = PARALLEL_MIN_BYTES,
) -> Iterator[NewRow]:
    """Every row of `contacts`, judged, in input order: `contacts.rows()`, faster on a large
    list. `workers` defaults to the usable cores; 0 or 1 reads in this process only."""
    count = usable_cores() if workers is None else workers
    # A daemonic process (a Celery pool worker) may not start processes of its own.
    in_daemon = multiprocessing.current_process().daemon
    if count < 2 or in_daemon or _size_bytes(contacts) < min_bytes:
        return contacts.rows()
    return _parallel_rows(contacts, count, chunk_rows)


def _size_bytes(contacts: ContactList) -> int:
    try:
        return contacts.path.stat().st_size
    except OSError:
        return 0  # the reader says what is wrong with the file


def _parallel_rows(contacts: ContactList, workers: int, chunk_rows: int) -> Iterator[NewRow]:
    judge = contacts.judge()
    records = contacts.records()
    # the cells a worker needs: the phone columns, then the columns marking their kind
    types = contacts.type_columns
    wanted = list(dict.fromkeys([*contacts.phone_columns, *(t for t in types if t is not None)]))
    at = {column: position for position, column in enumerate(wanted)}
    order = [at[column] for column in contacts.phone_columns]
    kinds = [None if t is None else at[t] for t in types]
    headers = [contacts.headers[i] for i in wanted]
    region = contacts.region
    # spawn, not fork: the caller may be a threaded server (dialer serve), and a forked copy
    # of its locks can deadlock.
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    pending: deque[tuple[list[tuple[int, list[str]]], Future[list[PhoneReading]] | None]]
    pending = deque()
    broken = False

    def submit() -> bool:
        nonlocal broken
        chunk = list(islice(records, chunk_rows))
        if not chunk:
            return False
        future = None
        if not broken:
            texts = [[cells[i] for i in wanted] for _, cells in chunk]
            try:
                future = pool.submit(read_numbers, region, headers, texts, order, kinds)
            except (BrokenProcessPool, RuntimeError):
                broken = True
        pending.append((chunk, future))
        return True

    try:
        while len(pending) < workers * _CHUNKS_AHEAD_PER_WORKER and submit():
            pass
        while pending:
            chunk, future = pending.popleft()
            readings: list[PhoneReading] | None = None
            if future is not None:
                try:
                    readings = future.result()
                except BrokenProcessPool:
                    # A worker died (killed, out of memory): this process reads the numbers
                    # itself from here on, the same way; the rows are the same.
                    log.warning("a number-reading worker process died; reading on in one process")
                    broken = True
            submit()
            if readings is None:
                for idx, cells in chunk:
                    yield judge.judge(idx, cells)
            else:
                for (idx, cells), reading in zip(chunk, readings, strict=True):
                    yield judge.judge(idx, cells, reading)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def read_numbers(
    region: str,
    headers: list[str],
    rows: list[list[str]],
    order: list[int],
    kinds: list[int | None],
) -> list[PhoneReading]:
    """A chunk of rows' phone cells (those of `headers`) read in a worker process: `order` is
    the phone columns' order, `kinds` the columns marking their kind per row (or [])."""
    reader = _reader(region)
    return [read_row_phone(cells, order, headers, reader, kinds)[0] for cells in rows]


@functools.cache
def _reader(region: str) -> PhoneReader:
    """One reader per worker process and region: its caches serve every chunk it reads."""
    return PhoneReader(region)
