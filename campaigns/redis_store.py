"""The cluster campaign store, in Redis (keys: `dialer.redis_keys`).

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

from campaigns.dnc import DncEntry
from campaigns.history import CAP_WAIT_S, HISTORY_TTL_S, DialGuard, HistoryEntry
from campaigns.store import (
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
from dialer.call import Call
from dialer.errors import StoreError
from dialer.redis_keys import RedisKeys

_BATCH = 2000
EVENT_TTL_S = 7 * 86400  # webhook deliveries are retried for minutes; a week is plenty

# KEYS: row, pending, leased, dialing, active, counts, calls, history prefix, do-not-call. Shared
# helpers prepended to each script. `age_text` mirrors campaigns.history.age_text.
_LUA_COMMON = """
local row, pending, leased = KEYS[1], KEYS[2], KEYS[3]
local dialing, active, counts, calls = KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local hprefix, dnc = KEYS[8], KEYS[9]
local idx = ARGV[1]
local function move(from, to)
  redis.call('HINCRBY', counts, from, -1)
  redis.call('HINCRBY', counts, to, 1)
  redis.call('HSET', row, 'status', to)
end
local function leased_by(owner)
  return redis.call('HGET', row, 'status') == 'pending'
     and redis.call('HGET', row, 'lease_owner') == owner
end
local function lease_valid(now_ms)
  local until_ms = redis.call('ZSCORE', leased, idx)
  return until_ms and tonumber(until_ms) > now_ms
end
local function hist_key()
  return hprefix .. redis.call('HGET', row, 'to_number')
end
local function note(status, call_id)
  local field = redis.call('HGET', row, 'hist_field')
  if not field then return end
  local v = redis.call('HGET', hist_key(), field)
  if not v then return end
  local e = cjson.decode(v)
  e.status = status
  if call_id and call_id ~= '' then e.call_id = call_id end
  redis.call('HSET', hist_key(), field, cjson.encode(e))
end
local function age_text(age)
  age = math.max(math.floor(age), 0)
  if age < 60 then return string.format('%d s', age) end
  if age < 7200 then return string.format('%d min', math.floor(age / 60)) end
  return string.format('%d h', math.floor(age / 3600))
end
local function suppress(error)
  redis.call('ZREM', leased, idx)
  redis.call('HSET', row, 'lease_owner', '', 'lease_until', 0, 'error', error)
  move('pending', 'suppressed')
end
-- the guard: a leased pending row whose number is on the do-not-call list, or that another
-- group called too lately, is suppressed
-- the frequency cap (cap_n calls within cap_s, '' for none): mirrors SqliteStore._capped
local function capped(now_s, cap_n, cap_s, cap_wait_s, cap_msg)
  if cap_n == '' then return false end
  cap_n, cap_s = tonumber(cap_n), tonumber(cap_s)
  local ats = {}
  for _, v in ipairs(redis.call('HVALS', hist_key())) do
    local e = cjson.decode(v)
    if e.status ~= 'not_created' and e.status ~= 'rejected' and e.at > now_s - cap_s then
      table.insert(ats, e.at)
    end
  end
  if #ats < cap_n then return false end
  table.sort(ats, function(a, b) return a > b end)
  local free_at = ats[cap_n] + cap_s
  if free_at - now_s > tonumber(cap_wait_s) then
    suppress(cap_msg)
  else
    redis.call('ZREM', leased, idx)
    redis.call('ZADD', pending, math.floor(free_at * 1000), idx)
    redis.call('HSET', row, 'lease_owner', '', 'lease_until', 0, 'not_before', tostring(free_at))
  end
  return true
end
local function recalled(now_s, recall_s, group, cap_n, cap_s, cap_wait_s, cap_msg)
  local listed = redis.call('HGET', dnc, redis.call('HGET', row, 'to_number'))
  if listed then
    suppress(cjson.decode(listed).message)
    return true
  end
  if capped(now_s, cap_n, cap_s, cap_wait_s, cap_msg) then return true end
  if recall_s <= 0 then return false end
  local best = nil
  for _, v in ipairs(redis.call('HVALS', hist_key())) do
    local e = cjson.decode(v)
    if e.group ~= group and e.status ~= 'not_created' and e.status ~= 'rejected'
       and e.at > now_s - recall_s and (best == nil or e.at > best.at) then
      best = e
    end
  end
  if best == nil then return false end
  suppress('called ' .. age_text(now_s - best.at) .. ' ago by campaign ' .. best.campaign)
  return true
end
"""

_LUA = {
    "release": """
if not leased_by(ARGV[2]) or not redis.call('ZSCORE', leased, idx) then return 0 end
redis.call('ZREM', leased, idx)
redis.call('ZADD', pending, ARGV[3], idx)
redis.call('HSET', row, 'lease_owner', '', 'lease_until', 0, 'not_before', ARGV[4])
return 1
""",
    "begin_dial": """
-- ARGV: idx, owner, now_ms, lease_ms, max_active, now_s, lease_until_s, recall_s, group,
--       agent, cid, history_ttl_s, cap_n, cap_s, cap_wait_s, cap_msg. Returns 1 dialing, 2
--       refused by the guard (suppressed, or deferred by the cap), 0 not ours.
if not leased_by(ARGV[2]) or not lease_valid(tonumber(ARGV[3])) then return 0 end
if recalled(tonumber(ARGV[6]), tonumber(ARGV[8]), ARGV[9], ARGV[13], ARGV[14], ARGV[15],
            ARGV[16]) then return 2 end
if redis.call('ZCARD', dialing) + redis.call('ZCARD', active) >= tonumber(ARGV[5]) then return 0 end
redis.call('ZREM', leased, idx)
redis.call('ZADD', dialing, tonumber(ARGV[3]) + tonumber(ARGV[4]), idx)
redis.call('HINCRBY', row, 'attempts', 1)
local field = ARGV[11] .. '|' .. ARGV[6]
redis.call('HSET', row, 'intent_at', ARGV[6], 'lease_until', ARGV[7], 'hist_field', field)
redis.call('HSET', hist_key(), field, cjson.encode({at = tonumber(ARGV[6]), campaign = ARGV[11],
  group = ARGV[9], agent = ARGV[10], status = 'dialing', call_id = ''}))
redis.call('EXPIRE', hist_key(), tonumber(ARGV[12]))
move('pending', 'dialing')
return 1
""",
    "recall_check": """
-- ARGV: idx, owner, now_ms, now_s, recall_s, group, cap_n, cap_s, cap_wait_s, cap_msg
if not leased_by(ARGV[2]) or not lease_valid(tonumber(ARGV[3])) then return 0 end
if recalled(tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6], ARGV[7], ARGV[8], ARGV[9],
            ARGV[10]) then return 1 end
return 0
""",
    "hold_dialing": """
-- ARGV: idx, owner, until_ms, until_s
if redis.call('HGET', row, 'status') ~= 'dialing'
   or redis.call('HGET', row, 'lease_owner') ~= ARGV[2] then return 0 end
redis.call('ZADD', dialing, 'XX', ARGV[3], idx)
redis.call('HSET', row, 'lease_until', ARGV[4])
return 1
""",
    "call_created": """
-- ARGV: idx, call_id, live_status, next_poll_ms, next_poll_s, "cid:idx"
if redis.call('HGET', row, 'status') ~= 'dialing' then return 0 end
redis.call('ZREM', dialing, idx)
redis.call('ZADD', active, ARGV[4], idx)
redis.call('HSET', row, 'call_id', ARGV[2], 'live_status', ARGV[3], 'next_poll_at', ARGV[5],
           'lease_owner', '', 'lease_until', 0)
redis.call('HSET', calls, ARGV[2], ARGV[6])
note('active', ARGV[2])
move('dialing', 'active')
return 1
""",
    "dial_not_sent": """
-- ARGV: idx, not_before_ms, not_before_s, error
if redis.call('HGET', row, 'status') ~= 'dialing' then return 0 end
redis.call('ZREM', dialing, idx)
redis.call('ZADD', pending, ARGV[2], idx)
redis.call('HINCRBY', row, 'attempts', -1)
redis.call('HSET', row, 'not_before', ARGV[3], 'error', ARGV[4],
           'lease_owner', '', 'lease_until', 0)
note('not_created')
move('dialing', 'pending')
return 1
""",
    "finish": """
-- ARGV: idx, new_status, last_status, redial_ms ('' for none), redial_s, error, call_id ('' keeps),
--       outcome, duration, started_at, completed_at, recording, transcript, call's status
local status = redis.call('HGET', row, 'status')
if status ~= 'dialing' and status ~= 'active' then return 0 end
-- a call's result lands only on the row that follows that very call
if ARGV[7] ~= '' and (status ~= 'active' or redis.call('HGET', row, 'call_id') ~= ARGV[7]) then
  return 0
end
redis.call('ZREM', dialing, idx)
redis.call('ZREM', active, idx)
if ARGV[4] ~= '' then redis.call('ZADD', pending, ARGV[4], idx) end
redis.call('HSET', row, 'live_status', ARGV[3], 'not_before', ARGV[5], 'error', ARGV[6],
           'lease_owner', '', 'lease_until', 0, 'outcome', ARGV[8], 'duration', ARGV[9],
           'started_at', ARGV[10], 'completed_at', ARGV[11], 'recording', ARGV[12],
           'transcript', ARGV[13])
note(ARGV[14], ARGV[7])
move(status, ARGV[2])
return 1
""",
    "set_polled": """
-- ARGV: idx, live_status, next_poll_ms, next_poll_s
if redis.call('HGET', row, 'status') ~= 'active' then return 0 end
redis.call('ZADD', active, 'XX', ARGV[3], idx)
redis.call('HSET', row, 'live_status', ARGV[2], 'next_poll_at', ARGV[4])
return 1
""",
    "take_over": """
-- ARGV: idx, owner, now_ms, lease_ms, lease_until_s
if redis.call('HGET', row, 'status') ~= 'dialing' then return 0 end
local until_ms = redis.call('ZSCORE', dialing, idx)
if not until_ms or tonumber(until_ms) > tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', dialing, tonumber(ARGV[3]) + tonumber(ARGV[4]), idx)
redis.call('HSET', row, 'lease_owner', ARGV[2], 'lease_until', ARGV[5])
return 1
""",
}

# KEYS: pending, leased, row prefix. ARGV: now_ms, lease_ms, limit, owner, lease_until_s
# KEYS: the batch's row keys, then pending. ARGV: each row's fields as a JSON array of flat
# [field, value...] lists, then the pending rows' idx as a JSON array.
_LUA_INGEST = """
local rows = cjson.decode(ARGV[1])
for i, fields in ipairs(rows) do
  redis.call('DEL', KEYS[i])
  redis.call('HSET', KEYS[i], unpack(fields))
end
local pending = KEYS[#KEYS]
for _, idx in ipairs(cjson.decode(ARGV[2])) do
  redis.call('ZADD', pending, 0, idx)
end
"""

_LUA_CLAIM = """
local pending, leased, prefix = KEYS[1], KEYS[2], KEYS[3]
local now_ms, lease_ms, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
-- leases that ran out go back to pending first: their holder died or gave up
for _, idx in ipairs(redis.call('ZRANGEBYSCORE', leased, '-inf', now_ms)) do
  redis.call('ZREM', leased, idx)
  redis.call('ZADD', pending, now_ms, idx)
  redis.call('HSET', prefix .. idx, 'lease_owner', '', 'lease_until', 0)
end
local taken = redis.call('ZRANGEBYSCORE', pending, '-inf', now_ms, 'LIMIT', 0, limit)
for _, idx in ipairs(taken) do
  redis.call('ZREM', pending, idx)
  redis.call('ZADD', leased, now_ms + lease_ms, idx)
  redis.call('HSET', prefix .. idx, 'lease_owner', ARGV[4], 'lease_until', ARGV[5])
end
return taken
"""


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


def _row(idx: int, h: dict[str, str]) -> Row:
    return Row(
        idx=idx,
        cells=json.loads(h.get("cells", "[]")),
        to_number=h.get("to_number", ""),
        status=RowStatus(h.get("status", "pending")),
        variables=json.loads(h.get("variables", "{}")),
        zones=tuple(json.loads(h.get("zones", "[]"))),
        error=h.get("error", ""),
        not_before=float(h.get("not_before", 0)),
        attempts=int(h.get("attempts", 0)),
        call_id=h.get("call_id", ""),
        intent_at=float(h.get("intent_at", 0)),
        lease_owner=h.get("lease_owner", ""),
        lease_until=float(h.get("lease_until", 0)),
        next_poll_at=float(h.get("next_poll_at", 0)),
        live_status=h.get("live_status", ""),
        outcome=h.get("outcome", ""),
        duration=h.get("duration", ""),
        started_at=h.get("started_at", ""),
        completed_at=h.get("completed_at", ""),
        recording=h.get("recording", ""),
        transcript=h.get("transcript", ""),
    )


def _cap_args(guard: DialGuard | None) -> tuple[object, ...]:
    cap = guard.cap if guard else None
    if cap is None:
        return ("", 0, 0, "")
    return (cap.calls, cap.window_s, CAP_WAIT_S, cap.message)


def _dnc_entry(number: str, text: str) -> DncEntry:
    data = json.loads(text)
    return DncEntry(number, str(data.get("reason", "")), float(data["at"]))


# json.dumps(..., ensure_ascii=False) makes an encoder per call: one made once is half the cost.
_to_json = json.JSONEncoder(ensure_ascii=False).encode


def _new_row_fields(r: NewRow) -> dict[str, str]:
    fields = {
        "cells": _to_json(r.cells),
        "to_number": r.to_number,
        "status": r.status.value,
    }
    # Only what is there: small hashes stay in Redis' compact encoding.
    if r.variables:
        fields["variables"] = _to_json(r.variables)
    if r.zones:
        fields["zones"] = _to_json(list(r.zones))
    if r.error:
        fields["error"] = r.error
    return fields


class RedisStore:
    """Needs a client made with `decode_responses=True`."""

    def __init__(self, client: redis.Redis[str], keys: RedisKeys, account: str = "") -> None:
        self._r = client
        self._k = keys
        self.account = account  # tags the contact history (dialer.redis_keys.account_tag)
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
        """Redis refuses to start on a store that may lose writes (dialer.services)."""

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

    def release(self, campaign_id: str, idx: int, owner: str, not_before: float) -> bool:
        return self._run("release", campaign_id, idx, owner, _ms(not_before), not_before)

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
