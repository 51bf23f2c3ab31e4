"""Looking for the calls of rows in doubt in the API's call list (verified absence, DESIGN.md).

A POST whose answer was lost may or may not have created a call. The call list (newest first)
is read back until every row's intent is passed: a call to the row's number, by this agent,
created after the intent, is the row's call; a row not found once the list was read past its
intent proves that no call was created. A list that cannot be read, or that is unfit for the
proof (not newest first, items without `toNumber` or `createdAt`), proves nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime

from campaigns.store.rows import Row
from dialer.errors import ApiError, AuthError
from dialer.voxpria.client import VoxpriaClient
from dialer.voxpria.models import Call

log = logging.getLogger(__name__)

# Clocks differ between this machine and the API: a call created this much before the intent
# was written may still be ours.
CLOCK_SKEW_S = 10.0


def parse_time(text: str | None) -> float | None:
    """An API time (ISO 8601, `Z` or an offset) as epoch seconds; None when absent or unreadable."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def search_call_list(
    client: VoxpriaClient, rows: list[Row], agent_id: str, page_size: int
) -> tuple[dict[int, Call], bool]:
    """The calls of these rows found in the call list (by row index), and whether the list was
    read back past every row's intent: only then does a row not found prove that no call was
    created. An unreadable or unfit list proves nothing (AuthError is raised: nothing can go on)."""
    wanted = {r.to_number: r for r in rows}
    found: dict[int, Call] = {}
    oldest = min(r.intent_at for r in rows) - CLOCK_SKEW_S
    newest_seen = float("inf")
    # The list's first item already older than every intent proves the calls absent only if
    # the list is newest first (an oldest-first list starts with its oldest call): the rest
    # of that first page is read, and none of it may be newer.
    first_created: float | None = None
    try:
        for n, call in enumerate(client.list_calls(limit=page_size), 1):
            created = parse_time(call.created_at)
            if (
                created is None
                or not call.to_number
                or created > newest_seen + CLOCK_SKEW_S
                or (first_created is not None and created > first_created)
            ):
                log.warning("the call list is unfit to prove a call absent: %s", call.call_id)
                return found, False
            if first_created is not None:
                if n >= page_size:
                    return found, True
                continue
            newest_seen = min(newest_seen, created)
            if created < oldest:
                if n > 1:
                    return found, True
                first_created = created
                continue
            row = wanted.get(call.to_number)
            if row is not None and is_attempt_of(call, row, created, agent_id):
                found[row.idx] = call
                del wanted[row.to_number]
                if not wanted:
                    return found, True
    except ApiError as exc:
        if isinstance(exc, AuthError):
            raise
        log.warning("the call list could not be read; will look again: %s", exc)
        return found, False
    return found, True  # the whole list was read


def is_attempt_of(call: Call, row: Row, created: float | None, agent_id: str) -> bool:
    """Whether `call`, to the row's number, is the attempt whose answer was lost."""
    if call.call_id == row.call_id:  # the previous attempt's call
        return False
    if call.agent_id and call.agent_id != agent_id:
        return False
    return created is None or created >= row.intent_at - CLOCK_SKEW_S
