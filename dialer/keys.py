"""Every Redis key the dialer uses, built here and only here.

All keys start with a prefix (default `dialer`, settable so tests can use their own). None
expire on their own unless said: a campaign's keys live until the campaign is deleted, because
the store is the source of truth for reports.

| key | type | holds |
| --- | --- | --- |
| `{p}:lim:{account}:calls` | string | GCRA theoretical arrival time (us), account call limit |
| `{p}:lim:{account}:requests` | string | the same, account request limit |
| `{p}:lim:{account}:agent:{agent}` | string | the same for one agent's `--rate` |
| `{p}:campaigns` | zset | campaign id -> created time (ms) |
| `{p}:c:{cid}` | hash | the campaign's meta |
| `{p}:c:{cid}:r:{idx}` | hash | one row |
| `{p}:c:{cid}:pending` | zset | unleased pending rows -> not-before (ms) |
| `{p}:c:{cid}:leased` | zset | leased pending rows -> lease end (ms) |
| `{p}:c:{cid}:dialing` | zset | rows in dialing -> lease end (ms) |
| `{p}:c:{cid}:active` | zset | rows with a live call -> next poll (ms) |
| `{p}:c:{cid}:counts` | hash | status -> rows |
| `{p}:c:{cid}:lock:{role}` | string | a lease (dispatcher, worker slot): holder, PX = lease |
| `{p}:calls` | hash | callId -> `{cid}:{idx}`, for webhooks to find their row |
| `{p}:ev:{callId}:{event}` | string | a webhook event seen (dedup); expires after 7 days |
| `{p}:hist:{account}:{number}` | hash | contact history: `{cid}|{intent}` -> JSON; 400 days |
| `{p}:dnc` | hash | the do-not-call list: E.164 number -> JSON {reason, at, message} |
| `{p}:sched:{cid}` | string | a scheduled run's claim and stage (dialer/run_claims.py), 8 days |

The limiter keys expire (PX) once the TAT is in the past, so idle accounts leave nothing behind.
`{account}` is a short hash of the base URL and API key: never the key itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


def account_tag(base_url: str, api_key: str) -> str:
    """A stable, non-reversible tag for one account (the key never appears in Redis)."""
    return hashlib.sha256(f"{base_url}\n{api_key}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RedisKeys:
    prefix: str = "dialer"

    # --- limiter ---
    def limit_calls(self, account: str) -> str:
        return f"{self.prefix}:lim:{account}:calls"

    def limit_requests(self, account: str) -> str:
        return f"{self.prefix}:lim:{account}:requests"

    def limit_agent(self, account: str, agent_id: str) -> str:
        return f"{self.prefix}:lim:{account}:agent:{agent_id}"

    # --- campaigns ---
    def campaigns(self) -> str:
        return f"{self.prefix}:campaigns"

    def campaign(self, cid: str) -> str:
        return f"{self.prefix}:c:{cid}"

    def row(self, cid: str, idx: int) -> str:
        return f"{self.prefix}:c:{cid}:r:{idx}"

    def row_prefix(self, cid: str) -> str:
        return f"{self.prefix}:c:{cid}:r:"

    def pending(self, cid: str) -> str:
        return f"{self.prefix}:c:{cid}:pending"

    def leased(self, cid: str) -> str:
        return f"{self.prefix}:c:{cid}:leased"

    def dialing(self, cid: str) -> str:
        return f"{self.prefix}:c:{cid}:dialing"

    def active(self, cid: str) -> str:
        return f"{self.prefix}:c:{cid}:active"

    def counts(self, cid: str) -> str:
        return f"{self.prefix}:c:{cid}:counts"

    def lock(self, cid: str, role: str) -> str:
        return f"{self.prefix}:c:{cid}:lock:{role}"

    # --- webhooks ---
    def calls(self) -> str:
        return f"{self.prefix}:calls"

    def event(self, call_id: str, event: str) -> str:
        return f"{self.prefix}:ev:{call_id}:{event}"

    # --- the contact history ---
    def history_prefix(self, account: str) -> str:
        """Followed by an E.164 number: that number's calls (campaigns.store.history)."""
        return f"{self.prefix}:hist:{account}:"

    def dnc(self) -> str:
        """The do-not-call list (campaigns.store.dnc): the store's, shared by every account."""
        return f"{self.prefix}:dnc"

    # --- scheduled runs ---
    def scheduled_run(self, cid: str) -> str:
        """The claim on one scheduled run (`{name}-{YYYY-MM-DD}`): SET NX decides who starts it."""
        return f"{self.prefix}:sched:{cid}"
