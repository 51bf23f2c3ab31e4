"""The plain loop a user would write from the Calls API page: POST a call, poll it with
GET /calls/:id every 5 seconds until it ends, wait out the call limit's interval, next row.

    for number in numbers:
        call = POST /calls {agentId, toNumber}
        while True:
            sleep(5)
            if GET /calls/{callId}.status is final: break
        sleep(60 / 100)        # 100 calls a minute, as the docs say

Time-scaled like the simulator: `poll_every_s` is 5 s divided by the simulator's speed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import httpx

from tests.bench.sims import AGENT_ID

POLL_EVERY_S = 5.0  # what the loop would wait between GETs against the real API
FINAL_STATUSES = frozenset({"completed", "failed", "no_answer", "busy"})


def run_plain_loop(
    base_url: str,
    api_key: str,
    nums: Sequence[str],
    *,
    call_interval_s: float,
    poll_every_s: float,
    deadline_s: float,
) -> int:
    """Call every number, one after the other; returns the calls made (fewer only when the
    deadline cut the loop short)."""
    ends_at = time.monotonic() + deadline_s
    headers = {"Authorization": f"Bearer {api_key}"}
    made = 0
    with httpx.Client(base_url=base_url, headers=headers, timeout=10.0) as http:
        for number in nums:
            if time.monotonic() > ends_at:
                break
            answer = http.post("/calls", json={"agentId": AGENT_ID, "toNumber": number})
            answer.raise_for_status()
            made += 1
            _follow(http, answer.json()["data"]["callId"], poll_every_s, ends_at)
            time.sleep(call_interval_s)
    return made


def _follow(http: httpx.Client, call_id: str, poll_every_s: float, ends_at: float) -> None:
    while time.monotonic() <= ends_at:
        time.sleep(poll_every_s)
        status = http.get(f"/calls/{call_id}").json()["data"]["status"]
        if status in FINAL_STATUSES:
            return
