"""The embedded campaign store: one SQLite file in the state folder.

WAL with `synchronous=FULL`, so every committed transition (above all the dialing intent written
before a POST) survives a crash of the process or the machine. Every transition is a single
conditional UPDATE inside `BEGIN IMMEDIATE`, so two processes sharing the file (a run and a
`dialer status`, or a run started twice by mistake) can never both move the same row.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from itertools import islice
from pathlib import Path
from typing import Any

from campaigns.dnc import DncEntry
from campaigns.history import (
    CAP_WAIT_S,
    NOT_A_CALL,
    CallCap,
    DialGuard,
    HistoryEntry,
    recall_error,
)
from campaigns.store import (
    IN_FLIGHT,
    REPORT_LINE_FIELDS,
    CampaignMeta,
    CampaignState,
    DueCall,
    NewRow,
    ReportLines,
    Row,
    RowStatus,
    call_fields,
)
from dialer.call import Call
from dialer.errors import StoreError

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


class SqliteStore:
    """`account` tags the contact history (dialer.redis_keys.account_tag): a state folder used
    with two API keys keeps two histories."""

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

    # --- campaigns ---
    def create_campaign(self, meta: CampaignMeta, rows: Iterable[NewRow]) -> bool:
        with self._tx() as db:
            if db.execute("SELECT 1 FROM campaigns WHERE id=?", (meta.campaign_id,)).fetchone():
                return False
            total = 0
            it = iter(rows)
            while batch := list(islice(it, _INGEST_BATCH)):
                db.executemany(
                    "INSERT INTO rows (cid, idx, cells, to_number, status, variables, zones, "
                    "error) VALUES (?,?,?,?,?,?,?,?)",
                    [
                        (
                            meta.campaign_id,
                            r.idx,
                            json.dumps(r.cells, ensure_ascii=False),
                            r.to_number,
                            r.status.value,
                            json.dumps(r.variables, ensure_ascii=False),
                            json.dumps(list(r.zones)),
                            r.error,
                        )
                        for r in batch
                    ],
                )
                total += len(batch)
            meta.total_rows = total
            db.execute(
                "INSERT INTO campaigns (id, meta, created_at) VALUES (?,?,?)",
                (meta.campaign_id, _meta_to_json(meta), meta.created_at),
            )
            return True

    def get_campaign(self, campaign_id: str) -> CampaignMeta | None:
        with self._lock:
            rec = self._db.execute(
                "SELECT meta FROM campaigns WHERE id=?", (campaign_id,)
            ).fetchone()
        return _meta_from_json(rec[0]) if rec else None

    def update_campaign(self, campaign_id: str, **fields: object) -> None:
        with self._tx() as db:
            rec = db.execute("SELECT meta FROM campaigns WHERE id=?", (campaign_id,)).fetchone()
            if rec is None:
                return
            data = json.loads(rec[0])
            data.update(
                {k: (v.value if isinstance(v, CampaignState) else v) for k, v in fields.items()}
            )
            db.execute("UPDATE campaigns SET meta=? WHERE id=?", (json.dumps(data), campaign_id))

    def list_campaigns(self) -> list[CampaignMeta]:
        with self._lock:
            recs = self._db.execute(
                "SELECT meta FROM campaigns ORDER BY created_at DESC"
            ).fetchall()
        return [_meta_from_json(r[0]) for r in recs]

    # --- rows: reading ---
    def get_row(self, campaign_id: str, idx: int) -> Row | None:
        with self._lock:
            rec = self._db.execute(
                f"SELECT {_ROW_COLUMNS} FROM rows WHERE cid=? AND idx=?", (campaign_id, idx)
            ).fetchone()
        return _row(rec) if rec else None

    def iter_rows(self, campaign_id: str) -> Iterator[Row]:
        last = -1
        while True:
            with self._lock:
                recs = self._db.execute(
                    f"SELECT {_ROW_COLUMNS} FROM rows WHERE cid=? AND idx>? ORDER BY idx LIMIT ?",
                    (campaign_id, last, _INGEST_BATCH),
                ).fetchall()
            if not recs:
                return
            for rec in recs:
                yield _row(rec)
            last = recs[-1][0]

    def iter_report_rows(self, campaign_id: str) -> Iterator[Row]:
        last = -1
        while True:
            with self._lock:
                recs = self._db.execute(
                    f"SELECT {_REPORT_COLUMNS} FROM rows WHERE cid=? AND idx>? ORDER BY idx "
                    "LIMIT ?",
                    (campaign_id, last, _REPORT_BATCH),
                ).fetchall()
            if not recs:
                return
            yield from _report_rows(recs)
            last = recs[-1][0]

    def iter_report_lines(self, campaign_id: str, fields: Sequence[str]) -> Iterator[ReportLines]:
        # SQLite appends the fields to the row's JSON cells: one JSON array per row, and one
        # json.loads call per batch (the arrays joined) gives every line.
        line = _report_line_sql(fields)
        last = -1
        while True:
            with self._lock:
                recs = self._db.execute(
                    f"SELECT idx, status, live_status, {line} FROM rows WHERE cid=? AND idx>? "
                    "ORDER BY idx LIMIT ?",
                    (campaign_id, last, _REPORT_BATCH),
                ).fetchall()
            if not recs:
                return
            lines = json.loads("[" + ",".join([rec[3] for rec in recs]) + "]")
            yield ReportLines(lines, [rec[1] for rec in recs], [rec[2] for rec in recs])
            last = recs[-1][0]

    def counts(self, campaign_id: str) -> dict[RowStatus, int]:
        with self._lock:
            recs = self._db.execute(
                "SELECT status, COUNT(*) FROM rows WHERE cid=? GROUP BY status", (campaign_id,)
            ).fetchall()
        return {RowStatus(s): n for s, n in recs}

    def next_pending_at(self, campaign_id: str) -> float | None:
        with self._lock:
            rec = self._db.execute(
                "SELECT MIN(MAX(not_before, lease_until)) FROM rows WHERE cid=? AND status=?",
                (campaign_id, RowStatus.PENDING.value),
            ).fetchone()
        return None if rec[0] is None else float(rec[0])

    def next_poll_at(self, campaign_id: str) -> float | None:
        with self._lock:
            rec = self._db.execute(
                "SELECT MIN(next_poll_at) FROM rows WHERE cid=? AND status=?",
                (campaign_id, RowStatus.ACTIVE.value),
            ).fetchone()
        return None if rec[0] is None else float(rec[0])

    def find_call(self, call_id: str) -> tuple[str, int] | None:
        with self._lock:
            rec = self._db.execute(
                "SELECT cid, idx FROM rows WHERE call_id=? AND call_id != '' LIMIT 1", (call_id,)
            ).fetchone()
        return (str(rec[0]), int(rec[1])) if rec else None

    def first_event(self, call_id: str, event: str) -> bool:
        with self._tx() as db:
            return (
                db.execute(
                    "INSERT OR IGNORE INTO events (call_id, event, at) VALUES (?, ?, ?)",
                    (call_id, event, time.time()),
                ).rowcount
                == 1
            )

    def in_flight(self, campaign_id: str) -> int:
        with self._lock:
            return self._count_in_flight(self._db, campaign_id)

    @staticmethod
    def _count_in_flight(db: sqlite3.Connection, campaign_id: str) -> int:
        rec = db.execute(
            "SELECT COUNT(*) FROM rows WHERE cid=? AND status IN (?,?)",
            (campaign_id, *(s.value for s in IN_FLIGHT)),
        ).fetchone()
        return int(rec[0])

    # --- rows: transitions ---
    def claim(
        self, campaign_id: str, owner: str, now: float, lease_s: float, limit: int
    ) -> list[Row]:
        with self._tx() as db:
            recs = db.execute(
                f"SELECT {_ROW_COLUMNS} FROM rows WHERE cid=? AND status=? AND not_before<=? "
                "AND lease_until<=? ORDER BY not_before, idx LIMIT ?",
                (campaign_id, RowStatus.PENDING.value, now, now, limit),
            ).fetchall()
            rows = [_row(r) for r in recs]
            db.executemany(
                "UPDATE rows SET lease_owner=?, lease_until=? WHERE cid=? AND idx=?",
                [(owner, now + lease_s, campaign_id, r.idx) for r in rows],
            )
        for r in rows:
            r.lease_owner, r.lease_until = owner, now + lease_s
        return rows

    def release(self, campaign_id: str, idx: int, owner: str, not_before: float) -> bool:
        return self._update(
            "UPDATE rows SET lease_owner='', lease_until=0, not_before=? "
            "WHERE cid=? AND idx=? AND status=? AND lease_owner=?",
            (not_before, campaign_id, idx, RowStatus.PENDING.value, owner),
        )

    def begin_dial(
        self,
        campaign_id: str,
        idx: int,
        owner: str,
        now: float,
        lease_s: float,
        max_active: int,
        guard: DialGuard | None = None,
    ) -> Row | None:
        with self._tx() as db:
            number = self._leased_number(db, campaign_id, idx, owner, now)
            if number is None:
                return None
            if guard is not None and self._recalled(db, campaign_id, idx, number, now, guard):
                return self._read(db, campaign_id, idx)
            if self._count_in_flight(db, campaign_id) >= max_active:
                return None
            db.execute(
                "UPDATE rows SET status=?, intent_at=?, attempts=attempts+1, lease_until=? "
                "WHERE cid=? AND idx=?",
                (RowStatus.DIALING.value, now, now + lease_s, campaign_id, idx),
            )
            db.execute(
                f"INSERT OR REPLACE INTO history (account, {_HISTORY_COLUMNS}) "
                "VALUES (?,?,?,?,?,?,?,'')",
                (
                    self.account,
                    number,
                    now,
                    campaign_id,
                    (guard.group if guard else "") or campaign_id,
                    guard.agent_id if guard else "",
                    RowStatus.DIALING.value,
                ),
            )
            return self._read(db, campaign_id, idx)

    def recall_check(
        self, campaign_id: str, idx: int, owner: str, now: float, guard: DialGuard
    ) -> Row | None:
        with self._tx() as db:
            number = self._leased_number(db, campaign_id, idx, owner, now)
            if number is None or not self._recalled(db, campaign_id, idx, number, now, guard):
                return None
            return self._read(db, campaign_id, idx)

    @staticmethod
    def _leased_number(
        db: sqlite3.Connection, campaign_id: str, idx: int, owner: str, now: float
    ) -> str | None:
        rec = db.execute(
            "SELECT to_number FROM rows WHERE cid=? AND idx=? AND status=? AND lease_owner=? "
            "AND lease_until>?",
            (campaign_id, idx, RowStatus.PENDING.value, owner, now),
        ).fetchone()
        return None if rec is None else str(rec[0])

    def _recalled(
        self,
        db: sqlite3.Connection,
        campaign_id: str,
        idx: int,
        number: str,
        now: float,
        guard: DialGuard,
    ) -> bool:
        """The guard, inside the caller's transaction: True when the row was suppressed."""
        dnc = db.execute(
            "SELECT number, reason, added_at FROM dnc WHERE number=?", (number,)
        ).fetchone()
        if dnc is not None:
            self._suppress(db, campaign_id, idx, DncEntry(*dnc).message)
            return True
        if guard.cap is not None and self._capped(db, campaign_id, idx, number, now, guard.cap):
            return True
        if guard.recall_after_s <= 0:
            return False
        hit = db.execute(
            "SELECT at, cid FROM history WHERE account=? AND number=? AND at>? AND grp!=? "
            f"AND status NOT IN ({','.join('?' * len(NOT_A_CALL))}) ORDER BY at DESC LIMIT 1",
            (
                self.account,
                number,
                now - guard.recall_after_s,
                guard.group or campaign_id,
                *NOT_A_CALL,
            ),
        ).fetchone()
        if hit is None:
            return False
        self._suppress(db, campaign_id, idx, recall_error(now - hit[0], hit[1]))
        return True

    def _capped(
        self,
        db: sqlite3.Connection,
        campaign_id: str,
        idx: int,
        number: str,
        now: float,
        cap: CallCap,
    ) -> bool:
        """The frequency cap: a number called `cap.calls` times within the window waits for the
        oldest of those calls to leave it (pending, not-before then), or, when that is further
        than CAP_WAIT_S away, ends suppressed."""
        recs = db.execute(
            "SELECT at FROM history WHERE account=? AND number=? AND at>? "
            f"AND status NOT IN ({','.join('?' * len(NOT_A_CALL))}) ORDER BY at DESC LIMIT ?",
            (self.account, number, now - cap.window_s, *NOT_A_CALL, cap.calls),
        ).fetchall()
        if len(recs) < cap.calls:
            return False
        free_at = float(recs[-1][0]) + cap.window_s
        if free_at - now > CAP_WAIT_S:
            self._suppress(db, campaign_id, idx, cap.message)
        else:
            db.execute(
                "UPDATE rows SET not_before=?, lease_owner='', lease_until=0 WHERE cid=? AND idx=?",
                (free_at, campaign_id, idx),
            )
        return True

    @staticmethod
    def _suppress(db: sqlite3.Connection, campaign_id: str, idx: int, error: str) -> None:
        db.execute(
            "UPDATE rows SET status=?, error=?, lease_owner='', lease_until=0 "
            "WHERE cid=? AND idx=?",
            (RowStatus.SUPPRESSED.value, error, campaign_id, idx),
        )

    def dnc_add(self, entries: list[DncEntry]) -> int:
        with self._tx() as db:
            return sum(
                db.execute(
                    "INSERT OR IGNORE INTO dnc (number, reason, added_at) VALUES (?,?,?)",
                    (e.number, e.reason, e.added_at),
                ).rowcount
                for e in entries
            )

    def dnc_remove(self, numbers: list[str]) -> int:
        with self._tx() as db:
            return sum(db.execute("DELETE FROM dnc WHERE number=?", (n,)).rowcount for n in numbers)

    def dnc_get(self, number: str) -> DncEntry | None:
        with self._lock:
            rec = self._db.execute(
                "SELECT number, reason, added_at FROM dnc WHERE number=?", (number,)
            ).fetchone()
        return DncEntry(*rec) if rec else None

    def dnc_entries(self) -> list[DncEntry]:
        with self._lock:
            recs = self._db.execute(
                "SELECT number, reason, added_at FROM dnc ORDER BY added_at, number"
            ).fetchall()
        return [DncEntry(*r) for r in recs]

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

    def recent_calls(self, numbers: list[str], since: float) -> list[HistoryEntry]:
        if not numbers:
            return []
        with self._lock:
            recs = self._db.execute(
                f"SELECT {_HISTORY_COLUMNS} FROM history WHERE account=? AND at>=? "
                f"AND number IN ({','.join('?' * len(numbers))}) "
                f"AND status NOT IN ({','.join('?' * len(NOT_A_CALL))})",
                (self.account, since, *numbers, *NOT_A_CALL),
            ).fetchall()
        return [_entry(r) for r in recs]

    def campaign_history(self, numbers: list[str], campaign_id: str) -> list[HistoryEntry]:
        if not numbers:
            return []
        with self._lock:
            recs = self._db.execute(
                f"SELECT {_HISTORY_COLUMNS} FROM history WHERE account=? AND cid=? "
                f"AND number IN ({','.join('?' * len(numbers))}) ORDER BY number, at",
                (self.account, campaign_id, *numbers),
            ).fetchall()
        return [_entry(r) for r in recs]

    def history(self, number: str) -> list[HistoryEntry]:
        with self._lock:
            recs = self._db.execute(
                f"SELECT {_HISTORY_COLUMNS} FROM history WHERE account=? AND number=? ORDER BY at",
                (self.account, number),
            ).fetchall()
        return [_entry(r) for r in recs]

    def hold_dialing(self, campaign_id: str, idx: int, owner: str, until: float) -> bool:
        return self._update(
            "UPDATE rows SET lease_until=? WHERE cid=? AND idx=? AND status=? AND lease_owner=?",
            (until, campaign_id, idx, RowStatus.DIALING.value, owner),
        )

    def call_created(self, campaign_id: str, idx: int, call: Call, next_poll_at: float) -> bool:
        return self._moved(
            "UPDATE rows SET status=?, call_id=?, live_status=?, next_poll_at=?, lease_owner='', "
            "lease_until=0 WHERE cid=? AND idx=? AND status=?",
            (
                RowStatus.ACTIVE.value,
                call.call_id,
                (call.status.value if call.status else "queued"),
                next_poll_at,
                campaign_id,
                idx,
                RowStatus.DIALING.value,
            ),
            campaign_id,
            idx,
            RowStatus.ACTIVE.value,
            call.call_id,
        )

    def dial_not_sent(self, campaign_id: str, idx: int, not_before: float, error: str) -> bool:
        # The note first: it finds the entry by the row's intent time, which stays as it is.
        return self._moved(
            "UPDATE rows SET status=?, attempts=attempts-1, not_before=?, error=?, "
            "lease_owner='', lease_until=0 WHERE cid=? AND idx=? AND status=?",
            (
                RowStatus.PENDING.value,
                not_before,
                error,
                campaign_id,
                idx,
                RowStatus.DIALING.value,
            ),
            campaign_id,
            idx,
            "not_created",
        )

    def finish(
        self,
        campaign_id: str,
        idx: int,
        status: RowStatus,
        call: Call | None = None,
        error: str = "",
        redial_at: float | None = None,
    ) -> bool:
        new_status = RowStatus.PENDING if redial_at is not None else status
        # A call's result lands only on the row that follows that very call (active with its
        # id): never on a later attempt of the row, nor on a row in doubt.
        allowed: tuple[str, ...]
        if call is not None:
            where, allowed = "status=? AND call_id=?", (RowStatus.ACTIVE.value, call.call_id)
        else:
            where, allowed = "status IN (?,?)", tuple(s.value for s in IN_FLIGHT)
        return self._moved(
            f"UPDATE rows SET status=?, live_status=?, error=?, not_before=?, "
            f"lease_owner='', lease_until=0, {_FINAL_CALL_FIELDS} "
            f"WHERE cid=? AND idx=? AND {where}",
            (
                new_status.value,
                status.value if redial_at is not None else "",
                error,
                redial_at or 0.0,
                *call_fields(call),
                campaign_id,
                idx,
                *allowed,
            ),
            campaign_id,
            idx,
            status.value,
            call.call_id if call is not None else "",
        )

    def due_calls(self, campaign_id: str, now: float, limit: int) -> list[DueCall]:
        with self._lock:
            recs = self._db.execute(
                "SELECT idx, call_id, to_number, intent_at, next_poll_at FROM rows "
                "WHERE cid=? AND status=? AND next_poll_at<=? ORDER BY next_poll_at LIMIT ?",
                (campaign_id, RowStatus.ACTIVE.value, now, limit),
            ).fetchall()
        return [DueCall(*r) for r in recs]

    def active_calls(self, campaign_id: str) -> list[DueCall]:
        with self._lock:
            recs = self._db.execute(
                "SELECT idx, call_id, to_number, intent_at, next_poll_at FROM rows "
                "WHERE cid=? AND status=? ORDER BY next_poll_at",
                (campaign_id, RowStatus.ACTIVE.value),
            ).fetchall()
        return [DueCall(*r) for r in recs]

    def set_polled(self, campaign_id: str, idx: int, live_status: str, next_poll_at: float) -> bool:
        return self._update(
            "UPDATE rows SET live_status=?, next_poll_at=? WHERE cid=? AND idx=? AND status=?",
            (live_status, next_poll_at, campaign_id, idx, RowStatus.ACTIVE.value),
        )

    def expired_dialing(self, campaign_id: str, now: float) -> list[Row]:
        with self._lock:
            recs = self._db.execute(
                f"SELECT {_ROW_COLUMNS} FROM rows WHERE cid=? AND status=? AND lease_until<=?",
                (campaign_id, RowStatus.DIALING.value, now),
            ).fetchall()
        return [_row(r) for r in recs]

    def take_over(
        self, campaign_id: str, idx: int, owner: str, now: float, lease_s: float
    ) -> Row | None:
        with self._tx() as db:
            changed = db.execute(
                "UPDATE rows SET lease_owner=?, lease_until=? "
                "WHERE cid=? AND idx=? AND status=? AND lease_until<=?",
                (owner, now + lease_s, campaign_id, idx, RowStatus.DIALING.value, now),
            ).rowcount
            if changed != 1:
                return None
            rec = db.execute(
                f"SELECT {_ROW_COLUMNS} FROM rows WHERE cid=? AND idx=?", (campaign_id, idx)
            ).fetchone()
        return _row(rec)
