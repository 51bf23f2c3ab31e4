"""Named leases in Redis: who holds a role (a campaign's dispatcher, a worker slot) and until when.

A lease is a key holding its holder's token with a PX expiry. A holder that dies simply stops
renewing, and the role is free again when the lease runs out: no broker ack involved.
"""

from __future__ import annotations

from typing import Any

import redis

# Renew or take over only when the value is ours (or the key is gone): one step on the server.
_RENEW = """
local v = redis.call('GET', KEYS[1])
if v == false or v == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_HAND_OVER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""


class Leases:
    def __init__(self, client: redis.Redis[Any]) -> None:
        self._r = client
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)
        self._hand_over = client.register_script(_HAND_OVER)

    def hold(self, key: str, token: str, lease_ms: int) -> bool:
        """Take the lease if free, or renew it if already ours."""
        return bool(self._renew(keys=[key], args=[token, lease_ms]))

    def release(self, key: str, token: str) -> bool:
        return bool(self._release(keys=[key], args=[token]))

    def hand_over(self, key: str, token: str, next_token: str, lease_ms: int) -> bool:
        """Pass a held lease to the next holder (a task not started yet) in one step."""
        return bool(self._hand_over(keys=[key], args=[token, next_token, lease_ms]))

    def holder(self, key: str) -> str | None:
        value = self._r.get(key)
        return None if value is None else str(value)
