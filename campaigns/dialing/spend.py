"""The spend guard (`--min-balance`): the account's credit balance, read within the request
budget, and whether new calls may still start.

GET /credits is read before the first call, then again after every `every_calls` calls created
or `every_s` seconds, whichever comes first, and only when the request limiter has a slot (a
busy limiter defers the read to the next dial instead of spending a slot POST /calls needs).
"""

from __future__ import annotations

import logging
import math

from dialer.clock import Clock
from dialer.errors import ApiError, AuthError, InputError
from dialer.limiter import Limiter
from dialer.voxpria.client import VoxpriaClient

log = logging.getLogger(__name__)

EVERY_CALLS = 5
EVERY_S = 10.0


def parse_min_balance(text: str, *, name: str = "--min-balance") -> float:
    """`5`, `4.20` -> a finite amount >= 0; anything else is an InputError naming the option."""
    try:
        amount = float(text.strip())
    except ValueError:
        amount = math.nan
    if not math.isfinite(amount) or amount < 0:
        raise InputError(
            f"{name} {text!r} is not an amount: give the credit balance under which no new call "
            f"starts, e.g. {name} 5"
        )
    return amount


class SpendGuard:
    def __init__(
        self,
        min_balance: float,
        client: VoxpriaClient,
        limiter: Limiter,
        clock: Clock,
        *,
        every_calls: int = EVERY_CALLS,
        every_s: float = EVERY_S,
    ) -> None:
        self.min_balance = min_balance
        self.client = client
        self.limiter = limiter
        self.clock = clock
        self.every_calls = every_calls
        self.every_s = every_s
        self._calls_since = 0
        self._read_at: float | None = None
        self._unreadable_said = False
        self.balance: float | None = None

    def call_started(self) -> None:
        self._calls_since += 1

    def under(self) -> str | None:
        """The reason new calls must not start, or None while the balance allows them."""
        now = self.clock.now()
        due = (
            self._read_at is None
            or self._calls_since >= self.every_calls
            or now - self._read_at >= self.every_s
        )
        if due and self.limiter.acquire_request() <= 0:
            self._read(now)
        if self.balance is not None and self.balance < self.min_balance:
            return f"credit balance {self.balance:.2f} under --min-balance {self.min_balance:g}"
        return None

    def _read(self, now: float) -> None:
        self._read_at, self._calls_since = now, 0
        try:
            self.balance = self.client.get_credits().balance
        except AuthError:
            raise
        except ApiError as exc:  # the last balance read stands until the next read
            log.warning("GET /credits failed (%s): the balance is read again later", exc)
            return
        if self.balance is None and not self._unreadable_said:
            self._unreadable_said = True
            log.warning("GET /credits gave no balance: --min-balance cannot stop the run")


def balance_text(client: VoxpriaClient | None, min_balance: float | None) -> str:
    """The dry run's line on the credit balance: read once when a key is set, said when not."""
    if client is None:
        return "Credit balance: not read (no VOXPRIA_API_KEY set)."
    try:
        credits = client.get_credits()
    except ApiError as exc:
        return f"Credit balance: could not be read ({exc})."
    if credits.balance is None:
        return "Credit balance: GET /credits gave none (--min-balance cannot work)."
    line = f"Credit balance: {credits.balance:.2f} {credits.currency or ''}".rstrip()
    if min_balance is not None and credits.balance < min_balance:
        line += f": under --min-balance {min_balance:g}, no call would start"
    return line + "."
