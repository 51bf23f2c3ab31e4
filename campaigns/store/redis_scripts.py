"""The Redis store's Lua scripts (each step of a row, atomic) and the hash fields of a row."""

from __future__ import annotations

import json

from campaigns.store.dnc import DncEntry
from campaigns.store.history import CAP_WAIT_S, DialGuard
from campaigns.store.rows import (
    NewRow,
    Row,
    RowStatus,
)

# KEYS: row, pending, leased, dialing, active, counts, calls, history prefix, do-not-call. Shared
# helpers prepended to each script. `age_text` mirrors campaigns.store.history.age_text.
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
if ARGV[5] then redis.call('HSET', row, 'error', ARGV[5]) end
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
