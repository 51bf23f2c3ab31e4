"""The account's agents, for the new-campaign form's choice.

Cached for a minute: every listing is a request from the account's hourly budget (1,000 by
default, polling included), and a form reloaded while campaigns run should not spend it, nor
wait for the limiter.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from dialer.clock import Clock
from dialer.errors import DialerError
from dialer.voxpria.models import Agent

AGENTS_TTL_S = 60.0


@dataclass(frozen=True)
class AgentChoice:
    agents: list[Agent]
    error: str  # why they could not be listed ("" when they were); the form then takes an id


class AgentDirectory:
    def __init__(
        self, fetch: Callable[[], list[Agent]], clock: Clock, ttl_s: float = AGENTS_TTL_S
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._ttl_s = ttl_s
        self._lock = threading.Lock()
        self._cached: list[Agent] | None = None
        self._fetched_at = 0.0

    def choice(self) -> AgentChoice:
        """Blocking (an API request when the cache is stale): call it from a worker thread."""
        with self._lock:
            fresh = self._clock.now() - self._fetched_at < self._ttl_s
            if self._cached is not None and fresh:
                return AgentChoice(self._cached, "")
            try:
                agents = self._fetch()
            except DialerError as exc:  # messages say what to do, and never hold the key
                return AgentChoice([], str(exc))
            self._cached, self._fetched_at = agents, self._clock.now()
            return AgentChoice(agents, "")
