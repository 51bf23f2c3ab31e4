"""Who starts a scheduled run: a claim on its campaign id `{name}-{YYYY-MM-DD}`, taken with
SET NX in Redis so that of any number of beats exactly one starts it (dialer/beat/scheduler.py).

A claim's value says where the run stands: `starting <beat>` (a lease: a beat that dies while
starting frees the run for another once it runs out), then `started`, `skipped` (no list for
the day) or `failed` (unusable input: not retried); `reporting <beat>` (a lease), then
`reported`. Each move is one compare-and-set on the server (dialer/leases.py), so a beat only
ever moves its own claim on.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Protocol

import redis

from dialer.keys import RedisKeys
from dialer.leases import Leases

# Longer than a start takes (preflight, storing the list, submitting): a beat that died while
# starting holds the run this long before another beat may take it.
LEASE_MS = 15 * 60 * 1000
CLAIM_TTL_MS = 8 * 86_400 * 1000  # past any day a beat looks at (dialer/beat/scheduler.py)


class Claim(StrEnum):
    STARTING = "starting"
    STARTED = "started"
    SKIPPED = "skipped"
    FAILED = "failed"
    REPORTING = "reporting"
    REPORTED = "reported"


class RunClaims(Protocol):
    def claim(self, campaign_id: str) -> bool:
        """Take the run to start it (SET NX); False when someone has or had it."""

    def settle(self, campaign_id: str, from_state: Claim, to_state: Claim) -> bool:
        """Move our claim on (`starting`/`reporting` are ours); False if it is not ours."""

    def release(self, campaign_id: str) -> None:
        """Give back a run we failed to start, so a later tick (or beat) tries again."""

    def state(self, campaign_id: str) -> Claim | None: ...


class RedisRunClaims:
    """Claims in Redis, shared by every beat on the same REDIS_URL."""

    def __init__(self, client: redis.Redis[Any], keys: RedisKeys, owner: str) -> None:
        self._r = client
        self._keys = keys
        self._leases = Leases(client)
        self.owner = owner

    def _mine(self, state: Claim) -> str:
        leased = state in (Claim.STARTING, Claim.REPORTING)
        return f"{state} {self.owner}" if leased else str(state)

    def claim(self, campaign_id: str) -> bool:
        key = self._keys.scheduled_run(campaign_id)
        return bool(self._r.set(key, self._mine(Claim.STARTING), nx=True, px=LEASE_MS))

    def settle(self, campaign_id: str, from_state: Claim, to_state: Claim) -> bool:
        leased = to_state in (Claim.STARTING, Claim.REPORTING)
        return self._leases.hand_over(
            self._keys.scheduled_run(campaign_id),
            self._mine(from_state),
            self._mine(to_state),
            LEASE_MS if leased else CLAIM_TTL_MS,
        )

    def release(self, campaign_id: str) -> None:
        self._leases.release(self._keys.scheduled_run(campaign_id), self._mine(Claim.STARTING))

    def state(self, campaign_id: str) -> Claim | None:
        value = self._r.get(self._keys.scheduled_run(campaign_id))
        return None if value is None else Claim(str(value).split(" ", 1)[0])
