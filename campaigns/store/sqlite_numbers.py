"""The SQLite store's numbers: contact history, do-not-call list, recall and daily cap checks."""

from __future__ import annotations

import sqlite3

from campaigns.store.dnc import DncEntry
from campaigns.store.history import (
    CAP_WAIT_S,
    NOT_A_CALL,
    CallCap,
    DialGuard,
    HistoryEntry,
    recall_error,
)
from campaigns.store.rows import (
    Row,
    RowStatus,
)
from campaigns.store.sqlite_rows import (
    _HISTORY_COLUMNS,
    SqliteConnection,
    _entry,
)
from dialer.store_errors import translate_store_errors


@translate_store_errors  # a SQLite failure leaves as a StoreError that says what to do
class SqliteNumbers(SqliteConnection):
    """What is kept per phone number: the contact history, the do-not-call list and the
    recall and cap checks made before a call."""

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
