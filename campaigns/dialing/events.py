"""What a webhook event from Voxpria does to the store (no HTTP here: see dialer.receiver).

The docs disagree on nearly everything about webhooks, so this reads every variant they show:
the envelope `{event, timestamp, data}`; call payloads keyed `callId`/`toNumber`/`transcript` or
`id`/`phoneNumber`/`summary`; events `call.started`, `call.answered`, `call.completed`,
`call.failed`, `call.ended`, `campaign.*`, `credit.low`. There is no event id, so deliveries are
deduplicated on (callId, event).

An event moves a row only when it says which final status the call reached (`data.status`, or
the event name where it can mean one thing: `call.completed`, `call.failed`). A call that ended
without saying how (`call.ended` without a status, or a status this code does not know) is made
due for a poll now, so the poller fetches the truth. Events that change nothing final are only
noted. A call this store does not know (another tool's, or a row that has moved on to another
attempt) is dropped: the poller remains the safety net for anything dropped or lost.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from campaigns.dialing.campaign import load_policy
from campaigns.dialing.engine import record_final
from campaigns.store.rows import RowStatus, RowStore
from dialer.printable import printable
from dialer.voxpria.models import Call, CallStatus
from dialer.voxpria.wire import parse_call

log = logging.getLogger(__name__)

# Event names that mean the call is over, and the final status each one can only mean.
ENDING_EVENTS = frozenset({"call.completed", "call.failed", "call.ended"})
IMPLIED_FINAL: Mapping[str, CallStatus] = {
    "call.completed": CallStatus.COMPLETED,
    "call.failed": CallStatus.FAILED,
}


class MalformedEvent(ValueError):
    """The body is not a webhook event this receiver can read (the sender's fault: HTTP 400)."""


@dataclass(frozen=True)
class WebhookEvent:
    name: str  # "call.completed", ...
    timestamp: str | None  # as the sender wrote it
    data: Mapping[str, Any]
    call: Call | None  # the call a call.* event is about; None for campaign.* and credit.low
    status_given: bool  # data held a status (read or not): then the event name is not trusted


class Applied(StrEnum):
    """What an event did; the receiver logs it and answers 2xx to all of them."""

    FINAL = "final"  # a final status recorded (or a redial scheduled)
    ALREADY_FINAL = "already_final"  # the row had its final status already (from the poller)
    POLL_NOW = "poll_now"  # the call ended without saying how: polled at once
    NOTED = "noted"  # nothing final in it
    DUPLICATE = "duplicate"  # this (callId, event) was delivered before
    UNKNOWN_CALL = "unknown_call"  # not a call of this store, or not the row's current call
    NOT_A_CALL = "not_a_call"  # campaign.* or credit.low


def parse_event(body: Any) -> WebhookEvent:
    """A `WebhookEvent` from a parsed JSON body; MalformedEvent when it cannot be one."""
    if not isinstance(body, dict):
        raise MalformedEvent("the body is not a JSON object {event, timestamp, data}")
    name = body.get("event") or body.get("type")
    if not isinstance(name, str) or not name.strip():
        raise MalformedEvent("the body has no event name")
    data = body.get("data", {})
    if not isinstance(data, dict):
        raise MalformedEvent("data is not an object")
    name = name.strip().lower()
    timestamp = body.get("timestamp")
    stamp = timestamp if isinstance(timestamp, str) else None
    if not name.startswith("call."):
        return WebhookEvent(name, stamp, data, None, status_given=False)
    # some senders nest the call one level down
    fields = data["call"] if isinstance(data.get("call"), dict) else data
    call = parse_call(fields)
    if call is None:
        raise MalformedEvent(f"{name} has no callId (or id)")
    given = fields.get("status") not in (None, "")
    return WebhookEvent(name, stamp, data, call, status_given=given)


def final_call(event: WebhookEvent) -> Call | None:
    """The event's call with its final status, if the event says unambiguously which one."""
    call = event.call
    if call is None:
        return None
    if call.is_final:
        return call
    implied = IMPLIED_FINAL.get(event.name)
    if implied is not None and not event.status_given:
        return replace(call, status=implied)
    return None


def dedup_key(event: WebhookEvent) -> str:
    """What makes a delivery a repeat: its event name, and the status it carries when that
    status is not final. A `call.completed` saying `in_progress` is then another event than the
    later one saying `completed`, and can never make the real final one a duplicate."""
    if event.call is None or not event.status_given or event.call.is_final:
        return event.name
    status = event.call.status.value if event.call.status else "?"
    return f"{event.name}:{status}"


def apply_event(store: RowStore, event: WebhookEvent, now: float) -> Applied:
    """Apply one authentic event to the store. Safe to run twice and alongside the poller:
    every write it makes is conditional, and a repeat changes nothing."""
    call = event.call
    if call is None:
        _log_account_event(event)
        return Applied.NOT_A_CALL
    where = store.find_call(call.call_id)
    row = store.get_row(*where) if where else None
    # The row must still be on this call: after a redial it follows another one, and an
    # old call's late event must not end the new attempt.
    if where is None or row is None or row.call_id != call.call_id:
        name, call_id = printable(event.name, 64), printable(call.call_id, 100)
        log.info("%s for %s: not a live call of this store; dropped", name, call_id)
        return Applied.UNKNOWN_CALL
    # Marked before it is applied, so that two copies delivered at once apply once. Should the
    # store fail in between, the retry counts as a duplicate: the poll when the call is overdue
    # still fetches its outcome.
    if not store.first_event(call.call_id, dedup_key(event)):
        return Applied.DUPLICATE
    if row.status is not RowStatus.ACTIVE:
        return Applied.ALREADY_FINAL
    campaign_id, idx = where
    final = final_call(event)
    if final is not None:
        meta = store.get_campaign(campaign_id)
        if meta is None:  # pragma: no cover - rows never outlive their campaign
            return Applied.UNKNOWN_CALL
        policy = load_policy(meta)
        recorded = record_final(store, campaign_id, idx, row.attempts, final, policy, now)
        return Applied.FINAL if recorded else Applied.ALREADY_FINAL
    if event.name in ENDING_EVENTS:
        # Over, but how is not said: ask the API now rather than when the call is overdue.
        store.set_polled(campaign_id, idx, row.live_status, now)
        return Applied.POLL_NOW
    return Applied.NOTED


def _log_account_event(event: WebhookEvent) -> None:
    if event.name == "credit.low":
        balance = printable(event.data.get("balance", "unknown"), 40)
        log.warning("Voxpria says the credit balance is low (balance %s): top up", balance)
    else:
        name = printable(event.name, 64)
        log.info("%s received (the dialer runs its own campaigns; nothing to do)", name)
