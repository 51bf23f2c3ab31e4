"""The embedded campaign store: one SQLite file in the state folder.

WAL with `synchronous=FULL`, so every committed transition (above all the dialing intent written
before a POST) survives a crash of the process or the machine. Every transition is a single
conditional UPDATE inside `BEGIN IMMEDIATE`, so two processes sharing the file (a run and a
`dialer status`, or a run started twice by mistake) can never both move the same row.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice

from campaigns.store.history import (
    DialGuard,
)
from campaigns.store.rows import (
    IN_FLIGHT,
    CampaignMeta,
    CampaignState,
    DueCall,
    NewRow,
    ReportLines,
    Row,
    RowStatus,
    call_fields,
)
from campaigns.store.sqlite_numbers import SqliteNumbers
from campaigns.store.sqlite_rows import (
    _FINAL_CALL_FIELDS,
    _HISTORY_COLUMNS,
    _INGEST_BATCH,
    _REPORT_BATCH,
    _REPORT_COLUMNS,
    _ROW_COLUMNS,
    _meta_from_json,
    _meta_to_json,
    _report_line_sql,
    _report_rows,
    _row,
)
from dialer.store_errors import translate_store_errors
from dialer.voxpria.models import Call


@translate_store_errors  # a SQLite failure leaves as a StoreError that says what to do
class SqliteStore(SqliteNumbers):
    """`account` tags the contact history (dialer.keys.account_tag): a state folder used
    with two API keys keeps two histories."""

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

    def release(
        self, campaign_id: str, idx: int, owner: str, not_before: float, error: str | None = None
    ) -> bool:
        return self._update(
            "UPDATE rows SET lease_owner='', lease_until=0, not_before=?, error=COALESCE(?, error) "
            "WHERE cid=? AND idx=? AND status=? AND lease_owner=?",
            (not_before, error, campaign_id, idx, RowStatus.PENDING.value, owner),
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
