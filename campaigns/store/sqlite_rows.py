"""The SQLite store's schema, its rows read back, and its one connection to the state file."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from campaigns.store.history import (
    HistoryEntry,
)
from campaigns.store.rows import (
    REPORT_LINE_FIELDS,
    CampaignMeta,
    CampaignState,
    Row,
    RowStatus,
)
from dialer.errors import StoreError
from dialer.store_errors import damaged_file, translate_store_errors

_SCHEMA = """
CREATE TABLE IF NOT EXISTS campaigns (
    id TEXT PRIMARY KEY, meta TEXT NOT NULL, created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS rows (
    cid TEXT NOT NULL, idx INTEGER NOT NULL,
    cells TEXT NOT NULL, to_number TEXT NOT NULL, status TEXT NOT NULL,
    variables TEXT NOT NULL, zones TEXT NOT NULL, error TEXT NOT NULL DEFAULT '',
    not_before REAL NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,
    call_id TEXT NOT NULL DEFAULT '', intent_at REAL NOT NULL DEFAULT 0,
    lease_owner TEXT NOT NULL DEFAULT '', lease_until REAL NOT NULL DEFAULT 0,
    next_poll_at REAL NOT NULL DEFAULT 0, live_status TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL DEFAULT '', duration TEXT NOT NULL DEFAULT '',
    started_at TEXT NOT NULL DEFAULT '', completed_at TEXT NOT NULL DEFAULT '',
    recording TEXT NOT NULL DEFAULT '', transcript TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (cid, idx)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rows_by_due ON rows (cid, status, not_before);
CREATE INDEX IF NOT EXISTS rows_by_poll ON rows (cid, status, next_poll_at);
CREATE INDEX IF NOT EXISTS rows_by_call ON rows (call_id) WHERE call_id != '';
CREATE TABLE IF NOT EXISTS history (
    account TEXT NOT NULL, number TEXT NOT NULL, at REAL NOT NULL, cid TEXT NOT NULL,
    grp TEXT NOT NULL, agent TEXT NOT NULL, status TEXT NOT NULL,
    call_id TEXT NOT NULL DEFAULT '', PRIMARY KEY (account, number, at, cid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dnc (
    number TEXT PRIMARY KEY, reason TEXT NOT NULL, added_at REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    call_id TEXT NOT NULL, event TEXT NOT NULL, at REAL NOT NULL, PRIMARY KEY (call_id, event)
) WITHOUT ROWID;
"""


_ROW_COLUMNS = (
    "idx, cells, to_number, status, variables, zones, error, not_before, attempts, call_id, "
    "intent_at, lease_owner, lease_until, next_poll_at, live_status, outcome, duration, "
    "started_at, completed_at, recording, transcript"
)


_INGEST_BATCH = 5000


_REPORT_BATCH = 20_000


_HISTORY_COLUMNS = "number, at, cid, grp, agent, status, call_id"


# The history entry of a row's latest intent (params: status, call_id?, account, cid, idx x3).
_NOTE_SQL = (
    "UPDATE history SET status=?{call} WHERE account=? AND cid=? "
    "AND number=(SELECT to_number FROM rows WHERE cid=history.cid AND idx=?) "
    "AND at=(SELECT intent_at FROM rows WHERE cid=history.cid AND idx=?)"
)


_FINAL_CALL_FIELDS = (
    "outcome=?, duration=?, started_at=?, completed_at=?, recording=?, transcript=?"
)


def _row(rec: tuple[Any, ...]) -> Row:
    return Row(
        idx=rec[0],
        cells=json.loads(rec[1]),
        to_number=rec[2],
        status=RowStatus(rec[3]),
        variables=json.loads(rec[4]),
        zones=tuple(json.loads(rec[5])),
        error=rec[6],
        not_before=rec[7],
        attempts=rec[8],
        call_id=rec[9],
        intent_at=rec[10],
        lease_owner=rec[11],
        lease_until=rec[12],
        next_poll_at=rec[13],
        live_status=rec[14],
        outcome=rec[15],
        duration=rec[16],
        started_at=rec[17],
        completed_at=rec[18],
        recording=rec[19],
        transcript=rec[20],
    )


# What the outcome report shows, and what its Analysis sheet needs (the zones, the dial time):
# a million rows' variables and leases are never read or decoded for it.
_REPORT_COLUMNS = (
    "idx, cells, to_number, status, error, attempts, call_id, live_status, outcome, duration, "
    "started_at, completed_at, recording, transcript, zones, intent_at"
)
_STATUS_BY_TEXT = {status.value: status for status in RowStatus}


def _report_rows(recs: list[tuple[Any, ...]]) -> Iterator[Row]:
    loads, status_by_text = json.loads, _STATUS_BY_TEXT
    zones_by_text: dict[str, tuple[str, ...]] = {}  # a list has a handful of distinct zone sets
    for rec in recs:
        idx, cells, to, status, err, att, cid, live, out, dur, start, end, rec_url, text = rec[:14]
        zones = zones_by_text.get(rec[14])
        if zones is None:
            zones = zones_by_text[rec[14]] = tuple(loads(rec[14]))
        yield Row(
            idx,
            loads(cells),
            to,
            status_by_text[status],
            zones=zones,
            error=err,
            attempts=att,
            call_id=cid,
            intent_at=rec[15],
            live_status=live,
            outcome=out,
            duration=dur,
            started_at=start,
            completed_at=end,
            recording=rec_url,
            transcript=text,
        )


def _report_line_sql(fields: Sequence[str]) -> str:
    """SQL for a row's cells (a JSON array) with `fields` appended as JSON strings."""
    if not REPORT_LINE_FIELDS.issuperset(fields):
        raise ValueError(f"not report line fields: {sorted(set(fields) - REPORT_LINE_FIELDS)}")
    appended = [
        f"'$[#]', {'CAST(attempts AS TEXT)' if field == 'attempts' else field}" for field in fields
    ]
    return f"json_insert(cells, {', '.join(appended)})" if appended else "cells"


def _meta_to_json(meta: CampaignMeta) -> str:
    return json.dumps(asdict(meta))


def _meta_from_json(text: str) -> CampaignMeta:
    data = json.loads(text)
    data["state"] = CampaignState(data["state"])
    return CampaignMeta(**data)


def _private_folder(folder: Path) -> None:
    """The state folder, made 0700 when this creates it (it holds names and numbers)."""
    if not folder.exists():
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        folder.chmod(0o700)


def _identity(path: Path) -> tuple[int, int]:
    st = path.stat()
    return (st.st_dev, st.st_ino)


def _entry(rec: tuple[Any, ...]) -> HistoryEntry:
    return HistoryEntry(*rec)


@translate_store_errors  # a SQLite failure leaves as a StoreError that says what to do
class SqliteConnection:
    """The state file's one connection: opened private, checked intact, written in
    IMMEDIATE transactions."""

    def __init__(self, path: Path, account: str = "") -> None:
        try:
            _private_folder(path.parent)
            # created 0600 before SQLite opens it: its -wal and -shm files take its mode
            os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
            self._db = sqlite3.connect(
                str(path), isolation_level=None, check_same_thread=False, timeout=30.0
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            for file in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm"))):
                if file.exists():
                    file.chmod(0o600)  # a state file made before files were kept private
            self._identity = _identity(path)
        except (OSError, sqlite3.Error) as exc:
            damaged = damaged_file(exc, f"The state file {path}")
            if damaged is not None:
                raise damaged from exc
            raise StoreError(
                f"Cannot open the state file {path}: {exc}. Check that the state folder "
                "(DIALER_HOME, default .dialer/) is writable."
            ) from exc
        self.path = path
        self.account = account
        self._lock = threading.RLock()

    def check_intact(self) -> None:
        """Raise StoreError when the state file was deleted or replaced since it was opened:
        writes would go to a file nobody will ever read again, and the next run would phone
        everyone again."""
        try:
            same = _identity(self.path) == self._identity
        except OSError:
            same = False
        if not same:
            raise StoreError(
                f"The state file {self.path} was deleted or replaced while this run was going "
                "on, so what it did can no longer be kept: the run stopped. Do not delete the "
                "state folder (DIALER_HOME) during a run; its report says where each row stood."
            )

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: the write lock is taken up front, so a conditional
        UPDATE cannot race another process between its check and its write."""
        with self._lock:
            if self._db.in_transaction:  # left open by an interrupt (Ctrl-C) between two steps
                self._db.execute("ROLLBACK")
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _update(self, sql: str, params: tuple[Any, ...]) -> bool:
        with self._tx() as db:
            return db.execute(sql, params).rowcount == 1

    @staticmethod
    def _read(db: sqlite3.Connection, campaign_id: str, idx: int) -> Row:
        rec = db.execute(
            f"SELECT {_ROW_COLUMNS} FROM rows WHERE cid=? AND idx=?", (campaign_id, idx)
        ).fetchone()
        return _row(rec)

    def _note(
        self, db: sqlite3.Connection, campaign_id: str, idx: int, status: str, call_id: str = ""
    ) -> None:
        """The history entry of the row's latest intent follows its call."""
        call = ", call_id=?" if call_id else ""
        db.execute(
            _NOTE_SQL.format(call=call),
            (status, *((call_id,) if call_id else ()), self.account, campaign_id, idx, idx),
        )

    def _moved(
        self, sql: str, params: tuple[Any, ...], cid: str, idx: int, status: str, call_id: str = ""
    ) -> bool:
        """A conditional row transition and, when it happened, its history note: one step."""
        with self._tx() as db:
            if db.execute(sql, params).rowcount != 1:
                return False
            self._note(db, cid, idx, status, call_id)
            return True
