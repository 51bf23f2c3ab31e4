"""The cluster campaign store, in Redis (keys: `dialer.keys`).

Every transition is one Lua script: the check of the row's state and the write happen in one
atomic step on the server, so two workers (or a task Celery delivered twice) can never both move
the same row. Run Redis with `appendonly yes` and `appendfsync always` (docker-compose.yml) so an
acknowledged intent survives a Redis crash.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict
from itertools import chain, islice

import redis

from campaigns.store.dnc import DncEntry
from campaigns.store.history import HISTORY_TTL_S, DialGuard, HistoryEntry
from campaigns.store.redis_scripts import (
    _LUA,
    _LUA_CLAIM,
    _LUA_COMMON,
    _LUA_INGEST,
    _cap_args,
    _dnc_entry,
    _ms,
    _new_row_fields,
    _row,
    _to_json,
)
from campaigns.store.rows import (
    CampaignMeta,
    CampaignState,
    DueCall,
    NewRow,
    ReportLines,
    Row,
    RowStatus,
    call_fields,
    report_lines,
)
from dialer.errors import StoreError
from dialer.keys import RedisKeys
from dialer.store_errors import translate_store_errors
from dialer.voxpria.models import Call

_BATCH = 2000
EVENT_TTL_S = 7 * 86400  # webhook deliveries are retried for minutes; a week is plenty


@translate_store_errors  # a Redis failure leaves as a StoreError that says what to do
class RedisStore:
    """Needs a client made with `decode_responses=True`."""

    def __init__(self, client: redis.Redis[str], keys: RedisKeys, account: str = "") -> None:
        self._r = client
        self._k = keys
        self.account = account  # tags the contact history (dialer.keys.account_tag)
        self._scripts = {
            name: client.register_script(_LUA_COMMON + body) for name, body in _LUA.items()
        }
        self._claim = client.register_script(_LUA_CLAIM)
        self._ingest_script = client.register_script(_LUA_INGEST)

    def _row_keys(self, cid: str, idx: int) -> list[str]:
        k = self._k
        return [
            k.row(cid, idx),
            k.pending(cid),
            k.leased(cid),
            k.dialing(cid),
            k.active(cid),
            k.counts(cid),
            k.calls(),
            k.history_prefix(self.account),
            k.dnc(),
        ]

    def _run(self, name: str, cid: str, idx: int, *args: object) -> bool:
        return bool(self._call(name, cid, idx, *args))

    def _call(self, name: str, cid: str, idx: int, *args: object) -> int:
        try:
            return int(self._scripts[name](keys=self._row_keys(cid, idx), args=[idx, *args]))
        except redis.RedisError as exc:
            raise StoreError(f"Redis failed during {name}: {exc}. Check REDIS_URL.") from exc

    def check_intact(self) -> None:
        """Redis refuses to start on a store that may lose writes (campaigns.backends)."""

    # --- campaigns ---
    def create_campaign(self, meta: CampaignMeta, rows: Iterable[NewRow]) -> bool:
        k, cid = self._k, meta.campaign_id
        if self._r.exists(k.campaign(cid)):
            return False
        # Ingest is idempotent (rows overwritten, counts set at the end), so a crash midway and
        # a second try leave the same state; the meta written last makes the campaign visible.
        counts: dict[str, int] = {}
        total = 0
        it = iter(rows)
        while batch := list(islice(it, _BATCH)):
            self._ingest(cid, batch)
            for r in batch:
                counts[r.status.value] = counts.get(r.status.value, 0) + 1
            total += len(batch)
        meta.total_rows = total
        pipe = self._r.pipeline(transaction=True)
        pipe.delete(k.counts(cid))
        if counts:
            pipe.hset(k.counts(cid), mapping=counts)  # type: ignore[arg-type]
        pipe.hsetnx(k.campaign(cid), "json", json.dumps(asdict(meta)))
        pipe.zadd(k.campaigns(), {cid: _ms(meta.created_at)})
        return bool(pipe.execute()[-2])

    def _ingest(self, cid: str, batch: list[NewRow]) -> None:
        """Store `batch`'s rows with one script call: its fields travel as one JSON argument,
        as redis-py packing a dozen arguments per row was most of the time a million took."""
        k = self._k
        keys = [k.row(cid, r.idx) for r in batch]
        fields = _to_json([[*chain.from_iterable(_new_row_fields(r).items())] for r in batch])
        pending = json.dumps([str(r.idx) for r in batch if r.status is RowStatus.PENDING])
        self._ingest_script(keys=[*keys, k.pending(cid)], args=[fields, pending])

    def get_campaign(self, campaign_id: str) -> CampaignMeta | None:
        text = self._r.hget(self._k.campaign(campaign_id), "json")
        if text is None:
            return None
        data = json.loads(text)
        data["state"] = CampaignState(data["state"])
        return CampaignMeta(**data)

    def update_campaign(self, campaign_id: str, **fields: object) -> None:
        key = self._k.campaign(campaign_id)
        with self._r.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    text: str | None = pipe.hget(key, "json")  # type: ignore[assignment]
                    if text is None:
                        return
                    data = json.loads(text)
                    data.update(
                        {
                            k: (v.value if isinstance(v, CampaignState) else v)
                            for k, v in fields.items()
                        }
                    )
                    pipe.multi()
                    pipe.hset(key, "json", json.dumps(data))
                    pipe.execute()
                    return
                except redis.WatchError:
                    continue

    def list_campaigns(self) -> list[CampaignMeta]:
        ids = self._r.zrevrange(self._k.campaigns(), 0, -1)
        metas = [self.get_campaign(i) for i in ids]
        return [m for m in metas if m is not None]

    # --- rows: reading ---
    def get_row(self, campaign_id: str, idx: int) -> Row | None:
        h = self._r.hgetall(self._k.row(campaign_id, idx))
        return _row(idx, h) if h else None

    def _rows(self, campaign_id: str, idxs: Iterable[int]) -> list[Row]:
        idxs = list(idxs)
        pipe = self._r.pipeline(transaction=False)
        for i in idxs:
            pipe.hgetall(self._k.row(campaign_id, i))
        return [_row(i, h) for i, h in zip(idxs, pipe.execute(), strict=True) if h]

    def iter_rows(self, campaign_id: str) -> Iterator[Row]:
        meta = self.get_campaign(campaign_id)
        total = meta.total_rows if meta else 0
        for start in range(0, total, _BATCH):
            yield from self._rows(campaign_id, range(start, min(start + _BATCH, total)))

    def iter_report_rows(self, campaign_id: str) -> Iterator[Row]:
        return self.iter_rows(campaign_id)

    def iter_report_lines(self, campaign_id: str, fields: Sequence[str]) -> Iterator[ReportLines]:
        return report_lines(self.iter_report_rows(campaign_id), fields)

    def counts(self, campaign_id: str) -> dict[RowStatus, int]:
        raw = self._r.hgetall(self._k.counts(campaign_id))
        return {RowStatus(s): int(n) for s, n in raw.items() if int(n)}

    def next_pending_at(self, campaign_id: str) -> float | None:
        firsts = [
            self._r.zrange(key, 0, 0, withscores=True)
            for key in (self._k.pending(campaign_id), self._k.leased(campaign_id))
        ]
        scores = [f[0][1] for f in firsts if f]
        return min(scores) / 1000 if scores else None

    def next_poll_at(self, campaign_id: str) -> float | None:
        first = self._r.zrange(self._k.active(campaign_id), 0, 0, withscores=True)
        return first[0][1] / 1000 if first else None

    def find_call(self, call_id: str) -> tuple[str, int] | None:
        where = self._r.hget(self._k.calls(), call_id)
        if where is None:
            return None
        cid, _, idx = where.rpartition(":")
        return cid, int(idx)

    def first_event(self, call_id: str, event: str) -> bool:
        return bool(self._r.set(self._k.event(call_id, event), "1", nx=True, ex=EVENT_TTL_S))

    def in_flight(self, campaign_id: str) -> int:
        return int(self._r.zcard(self._k.dialing(campaign_id))) + int(
            self._r.zcard(self._k.active(campaign_id))
        )

    # --- rows: transitions ---
    def claim(
        self, campaign_id: str, owner: str, now: float, lease_s: float, limit: int
    ) -> list[Row]:
        k = self._k
        idxs = self._claim(
            keys=[k.pending(campaign_id), k.leased(campaign_id), k.row_prefix(campaign_id)],
            args=[_ms(now), _ms(lease_s), limit, owner, now + lease_s],
        )
        return self._rows(campaign_id, (int(i) for i in idxs))

    def release(
        self, campaign_id: str, idx: int, owner: str, not_before: float, error: str | None = None
    ) -> bool:
        why = () if error is None else (error,)  # ARGV[5]: the row's error, when given
        return self._run("release", campaign_id, idx, owner, _ms(not_before), not_before, *why)

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
        done = self._call(
            "begin_dial",
            campaign_id,
            idx,
            owner,
            _ms(now),
            _ms(lease_s),
            max_active,
            repr(now),
            now + lease_s,
            guard.recall_after_s if guard else 0,
            (guard.group if guard else "") or campaign_id,
            guard.agent_id if guard else "",
            campaign_id,
            HISTORY_TTL_S,
            *_cap_args(guard),
        )
        return self.get_row(campaign_id, idx) if done else None

    def recall_check(
        self, campaign_id: str, idx: int, owner: str, now: float, guard: DialGuard
    ) -> Row | None:
        done = self._run(
            "recall_check",
            campaign_id,
            idx,
            owner,
            _ms(now),
            repr(now),
            guard.recall_after_s,
            guard.group or campaign_id,
            *_cap_args(guard),
        )
        return self.get_row(campaign_id, idx) if done else None

    def dnc_add(self, entries: list[DncEntry]) -> int:
        pipe = self._r.pipeline(transaction=True)
        for e in entries:
            value = {"reason": e.reason, "at": e.added_at, "message": e.message}
            pipe.hsetnx(self._k.dnc(), e.number, json.dumps(value))
        return sum(bool(x) for x in pipe.execute())

    def dnc_remove(self, numbers: list[str]) -> int:
        return int(self._r.hdel(self._k.dnc(), *numbers)) if numbers else 0

    def dnc_get(self, number: str) -> DncEntry | None:
        text = self._r.hget(self._k.dnc(), number)
        return None if text is None else _dnc_entry(number, str(text))

    def dnc_entries(self) -> list[DncEntry]:
        entries = [_dnc_entry(str(n), str(t)) for n, t in self._r.hgetall(self._k.dnc()).items()]
        return sorted(entries, key=lambda e: (e.added_at, e.number))

    def hold_dialing(self, campaign_id: str, idx: int, owner: str, until: float) -> bool:
        return self._run("hold_dialing", campaign_id, idx, owner, _ms(until), until)

    def recent_calls(self, numbers: list[str], since: float) -> list[HistoryEntry]:
        return [
            e
            for n, values in zip(numbers, self._hvals(numbers), strict=True)
            for e in self._entries(n, values)
            if e.at >= since and e.is_call
        ]

    def campaign_history(self, numbers: list[str], campaign_id: str) -> list[HistoryEntry]:
        return [
            e
            for n, values in zip(numbers, self._hvals(numbers), strict=True)
            for e in sorted(self._entries(n, values), key=lambda e: e.at)
            if e.campaign == campaign_id
        ]

    def history(self, number: str) -> list[HistoryEntry]:
        entries = self._entries(number, self._hvals([number])[0])
        return sorted(entries, key=lambda e: e.at)

    def _hvals(self, numbers: list[str]) -> list[list[str]]:
        prefix = self._k.history_prefix(self.account)
        pipe = self._r.pipeline(transaction=False)
        for n in numbers:
            pipe.hvals(prefix + n)
        return list(pipe.execute())

    @staticmethod
    def _entries(number: str, values: list[str]) -> list[HistoryEntry]:
        entries = []
        for v in values:
            e = json.loads(v)
            entries.append(
                HistoryEntry(
                    number,
                    float(e["at"]),
                    str(e["campaign"]),
                    str(e["group"]),
                    str(e["agent"]),
                    str(e["status"]),
                    str(e.get("call_id") or ""),
                )
            )
        return entries

    def call_created(self, campaign_id: str, idx: int, call: Call, next_poll_at: float) -> bool:
        live = call.status.value if call.status else "queued"
        return self._run(
            "call_created",
            campaign_id,
            idx,
            call.call_id,
            live,
            _ms(next_poll_at),
            next_poll_at,
            f"{campaign_id}:{idx}",
        )

    def dial_not_sent(self, campaign_id: str, idx: int, not_before: float, error: str) -> bool:
        return self._run("dial_not_sent", campaign_id, idx, _ms(not_before), not_before, error)

    def finish(
        self,
        campaign_id: str,
        idx: int,
        status: RowStatus,
        call: Call | None = None,
        error: str = "",
        redial_at: float | None = None,
    ) -> bool:
        redial = redial_at is not None
        return self._run(
            "finish",
            campaign_id,
            idx,
            RowStatus.PENDING.value if redial else status.value,
            status.value if redial else "",
            _ms(redial_at) if redial_at is not None else "",
            redial_at or 0.0,
            error,
            call.call_id if call is not None else "",
            *call_fields(call),
            status.value,
        )

    def _due(self, campaign_id: str, max_ms: int | str, limit: int | None) -> list[DueCall]:
        key = self._k.active(campaign_id)
        if limit is None:
            pairs = self._r.zrangebyscore(key, "-inf", max_ms, withscores=True)
        else:
            pairs = self._r.zrangebyscore(key, "-inf", max_ms, start=0, num=limit, withscores=True)
        pipe = self._r.pipeline(transaction=False)
        for idx, _ in pairs:
            pipe.hmget(self._k.row(campaign_id, int(idx)), "call_id", "to_number", "intent_at")
        return [
            DueCall(int(idx), f[0] or "", f[1] or "", float(f[2] or 0), score / 1000)
            for (idx, score), f in zip(pairs, pipe.execute(), strict=True)
        ]

    def due_calls(self, campaign_id: str, now: float, limit: int) -> list[DueCall]:
        return self._due(campaign_id, _ms(now), limit)

    def active_calls(self, campaign_id: str) -> list[DueCall]:
        return self._due(campaign_id, "+inf", None)

    def set_polled(self, campaign_id: str, idx: int, live_status: str, next_poll_at: float) -> bool:
        return self._run(
            "set_polled", campaign_id, idx, live_status, _ms(next_poll_at), next_poll_at
        )

    def expired_dialing(self, campaign_id: str, now: float) -> list[Row]:
        idxs = self._r.zrangebyscore(self._k.dialing(campaign_id), "-inf", _ms(now))
        return self._rows(campaign_id, (int(i) for i in idxs))

    def take_over(
        self, campaign_id: str, idx: int, owner: str, now: float, lease_s: float
    ) -> Row | None:
        ok = self._run("take_over", campaign_id, idx, owner, _ms(now), _ms(lease_s), now + lease_s)
        return self.get_row(campaign_id, idx) if ok else None
