"""The simulator's webhook deliveries: Voxpria pushing call events to its subscribers.

A simulated call's status is computed from the clock when read, but its whole timeline is drawn
when it is created, so its events are scheduled then, at the moments they happen, and one
background thread delivers each when due. The thread runs only while deliveries are pending
(it is started again by the next one), so an idle simulator holds no thread.

Which events (the docs never say what a `no_answer` or `busy` call sends): `call.started` when it
rings, `call.answered` when answered, then `call.completed` (status completed), `call.failed`
(status failed), or `call.ended` with `data.status` `no_answer` or `busy`.

Faults, drawn from their own seeded generator so that calls' fates stay those of the same seed
without webhooks: a delivery dropped altogether (no attempt at all), or delivered twice.
A non-2xx answer or a transport error is retried up to `retries` times, the wait doubling from
`backoff_s`. Deliveries are sent one at a time; a receiver that hangs delays the others by at
most the timeout (this is a test double). httpx is used here, as the simulator is not the client.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from random import Random
from typing import Any

import httpx

from dialer.clock import Clock
from dialer.settings import Secret
from dialer.simulator.calls import SimCall, iso_utc
from dialer.voxpria.models import CallStatus
from dialer.voxpria.signatures import Scheme, signature_headers

log = logging.getLogger(__name__)

SEND_TIMEOUT_S = 2.0
FINAL_EVENT: Mapping[CallStatus, str] = {
    CallStatus.COMPLETED: "call.completed",
    CallStatus.FAILED: "call.failed",
    CallStatus.NO_ANSWER: "call.ended",
    CallStatus.BUSY: "call.ended",
}
# The second payload variant the docs show renames these keys.
_ID_STYLE_KEYS = {"callId": "id", "toNumber": "phoneNumber", "transcript": "summary"}


class PayloadStyle(StrEnum):
    CALL_ID = "callId"  # callId, toNumber, transcript
    ID = "id"  # id, phoneNumber, summary


@dataclass(frozen=True)
class Subscription:
    webhook_id: str
    url: str
    events: tuple[str, ...]  # names, or wildcards: "*", "call.*"
    secret: Secret = field(repr=False)
    active: bool = True

    def wants(self, event: str) -> bool:
        return self.active and any(
            pattern in ("*", event) or (pattern.endswith(".*") and event.startswith(pattern[:-1]))
            for pattern in self.events
        )

    def public_json(self) -> dict[str, Any]:
        """As `GET /webhooks` shows it: everything but the secret."""
        return {
            "webhookId": self.webhook_id,
            "url": self.url,
            "events": list(self.events),
            "active": self.active,
        }


@dataclass(frozen=True)
class DeliveryPolicy:
    scheme: Scheme = Scheme.A
    payload: PayloadStyle = PayloadStyle.CALL_ID
    p_drop: float = 0.0
    p_duplicate: float = 0.0
    retries: int = 5
    backoff_s: float = 0.05  # real seconds before the first retry; doubles after each


@dataclass(order=True)
class _Delivery:
    due_s: float  # epoch seconds
    seq: int  # ties broken by scheduling order
    subscription: Subscription = field(compare=False)
    event: str = field(compare=False)
    call_id: str = field(compare=False)
    body: bytes = field(compare=False)
    attempt: int = field(default=1, compare=False)


def call_events(call: SimCall) -> list[tuple[str, float]]:
    """The events Voxpria would push for `call`, with the epoch second each happens."""
    events = [("call.started", call.ringing_s)]
    if call.answered:
        events.append(("call.answered", call.answered_s))
    events.append((FINAL_EVENT[call.final_status], call.ended_s))
    return events


def event_body(call: SimCall, event: str, at_s: float, style: PayloadStyle) -> bytes:
    """The delivery's body: the envelope {event, timestamp, data} with the call as it is at
    `at_s`, in the payload variant `style`, serialised as JSON.stringify would."""
    data = call.details_json(at_s)
    if style is PayloadStyle.ID:
        data = {_ID_STYLE_KEYS.get(key, key): value for key, value in data.items()}
    envelope = {"event": event, "timestamp": iso_utc(at_s), "data": data}
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode()


class WebhookDispatcher:
    """Schedules and delivers webhook events; thread-safe."""

    def __init__(self, policy: DeliveryPolicy, clock: Clock, rng: Random) -> None:
        self._policy = policy
        self._clock = clock
        self._rng = rng
        self._cond = threading.Condition()
        self._queue: list[_Delivery] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._counts: Counter[str] = Counter()

    def schedule_call(self, call: SimCall, subscriptions: list[Subscription]) -> None:
        """Schedule every event of a new call for each subscription that wants it."""
        for event, at_s in call_events(call):
            for subscription in subscriptions:
                if subscription.wants(event):
                    body = event_body(call, event, at_s, self._policy.payload)
                    self._schedule(subscription, event, call.call_id, body, at_s)

    def _schedule(
        self, subscription: Subscription, event: str, call_id: str, body: bytes, at_s: float
    ) -> None:
        with self._cond:
            self._counts["events"] += 1
            if self._rng.random() < self._policy.p_drop:
                self._counts["dropped"] += 1
                return
            copies = 2 if self._rng.random() < self._policy.p_duplicate else 1
            self._counts["duplicated"] += copies - 1
            for copy in range(copies):
                due_s = at_s + copy * self._policy.backoff_s
                self._push(_Delivery(due_s, next(self._seq), subscription, event, call_id, body))

    def _push(self, delivery: _Delivery) -> None:
        """Queue a delivery and make sure a thread is there to send it (lock held)."""
        if self._closed:
            return
        heapq.heappush(self._queue, delivery)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sim-webhooks", daemon=True)
            self._thread.start()
        self._cond.notify()

    def stats(self) -> dict[str, int]:
        """events (scheduled), dropped, duplicated, sent (attempts), delivered (2xx), failed
        (attempts answered non-2xx or not at all), given_up (deliveries out of retries)."""
        with self._cond:
            return dict(self._counts)

    def pending(self) -> int:
        with self._cond:
            return len(self._queue)

    def close(self) -> None:
        """Drop what is pending and stop the thread (it ends after the send in progress)."""
        with self._cond:
            self._closed = True
            self._queue.clear()
            thread = self._thread
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(SEND_TIMEOUT_S * 2)

    def _run(self) -> None:
        # a client per busy spell: an idle simulator holds no connection either
        with httpx.Client(timeout=SEND_TIMEOUT_S) as http:
            while (delivery := self._next_due()) is not None:
                self._send(http, delivery)

    def _next_due(self) -> _Delivery | None:
        """Wait for the earliest delivery to fall due; None (the thread ends) once none is left."""
        with self._cond:
            while self._queue and not self._closed:
                wait_s = self._queue[0].due_s - self._clock.now()
                if wait_s <= 0:
                    return heapq.heappop(self._queue)
                self._cond.wait(wait_s)  # woken early when an earlier delivery is queued
            self._thread = None
            return None

    def _send(self, http: httpx.Client, delivery: _Delivery) -> None:
        headers = {"Content-Type": "application/json", "User-Agent": "Voxpria-Webhooks"}
        secret = delivery.subscription.secret
        headers |= signature_headers(self._policy.scheme, secret, delivery.body, self._clock.now())
        try:
            response = http.post(delivery.subscription.url, content=delivery.body, headers=headers)
            ok, outcome = response.is_success, str(response.status_code)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:  # no answer: retried like a 5xx
            ok, outcome = False, type(exc).__name__
        with self._cond:
            self._counts["sent"] += 1
            self._counts["delivered" if ok else "failed"] += 1
            if ok:
                return
            if delivery.attempt > self._policy.retries:
                self._counts["given_up"] += 1
                log.info("%s for %s given up: %s", delivery.event, delivery.call_id, outcome)
                return
            delivery.due_s = self._clock.now() + self._policy.backoff_s * 2 ** (
                delivery.attempt - 1
            )
            delivery.attempt += 1
            delivery.seq = next(self._seq)
            self._push(delivery)
