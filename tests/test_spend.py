"""The spend guard's reads and parsing, fast: VoxpriaClient over httpx.MockTransport, a
FakeClock, the embedded limiter."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from campaigns.dialing.spend import SpendGuard, balance_text, parse_min_balance
from campaigns.schedule.schedule_file import load_schedule_file
from dialer.clock import FakeClock
from dialer.errors import InputError
from dialer.limiter import LocalLimiter
from dialer.settings import Rate, Secret
from dialer.voxpria.client import VoxpriaClient


class Account:
    """GET /credits answering the balance the test sets, counting the reads."""

    def __init__(self, balance: float | None) -> None:
        self.balance = balance
        self.reads = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path.endswith("/credits")
        self.reads += 1
        body: dict[str, object] = {"currency": "USD"}
        if self.balance is not None:
            body["balance"] = self.balance
        return httpx.Response(200, json={"success": True, "data": body})


def _guard(account: Account, clock: FakeClock, requests: str = "100/s") -> SpendGuard:
    client = VoxpriaClient(
        "http://api.test/api/v1", Secret("k"), transport=httpx.MockTransport(account.handle)
    )
    limiter = LocalLimiter(
        Rate.parse("100/s", name="calls"), Rate.parse(requests, name="requests"), clock
    )
    return SpendGuard(5.0, client, limiter, clock, every_calls=3, every_s=10.0)


def test_reads_first_then_every_n_calls_or_m_seconds() -> None:
    account, clock = Account(9.0), FakeClock()
    guard = _guard(account, clock)
    assert guard.under() is None and account.reads == 1
    guard.call_started()
    guard.call_started()
    assert guard.under() is None and account.reads == 1  # 2 calls: not due yet
    account.balance = 4.2
    guard.call_started()
    clock.advance(0.1)  # a request slot free (100/s)
    assert guard.under() == "credit balance 4.20 under --min-balance 5" and account.reads == 2
    clock.advance(9.8)
    assert account.reads == 2 and guard.under() is not None
    account.balance = 50.0  # a top-up is seen at the next read, 10 s after the last
    clock.advance(0.2)
    assert guard.under() is None and account.reads == 3


def test_a_busy_request_limiter_defers_the_read() -> None:
    account, clock = Account(1.0), FakeClock()
    guard = _guard(account, clock, requests="1/min")
    assert guard.under() is not None and account.reads == 1
    account.balance = 100.0
    clock.advance(10.0)
    assert guard.under() is not None and account.reads == 1  # no request slot: not read
    clock.advance(60.0)
    assert guard.under() is None and account.reads == 2


def test_no_balance_in_the_answer_never_stops_the_run() -> None:
    account, clock = Account(None), FakeClock()
    guard = _guard(account, clock)
    assert guard.under() is None and account.reads == 1


@pytest.mark.parametrize("text", ["", "abc", "-0.01", "nan", "inf", "5 USD"])
def test_bad_amounts_name_the_option(text: str) -> None:
    with pytest.raises(InputError, match="--min-balance"):
        parse_min_balance(text)


def test_amounts() -> None:
    assert parse_min_balance(" 4.20 ") == 4.2 and parse_min_balance("0") == 0.0


def test_dry_run_text() -> None:
    assert "no VOXPRIA_API_KEY" in balance_text(None, 5.0)
    account = Account(4.2)
    client = VoxpriaClient(
        "http://api.test/api/v1", Secret("k"), transport=httpx.MockTransport(account.handle)
    )
    assert balance_text(client, 5.0) == (
        "Credit balance: 4.20 USD: under --min-balance 5, no call would start."
    )
    assert balance_text(client, 4.0) == "Credit balance: 4.20 USD."


BASE = """
[campaigns.a]
schedule = "0 9 * * *"
timezone = "UTC"
agent = "agent_1"
contacts = "a.csv"
"""


def test_the_campaign_file_key(tmp_path: Path) -> None:
    path = tmp_path / "campaigns.toml"
    path.write_text(BASE + 'min_balance = "5"\n', encoding="utf-8")
    (campaign,) = load_schedule_file(path).campaigns
    assert campaign.policy.min_balance == 5.0
    path.write_text(BASE, encoding="utf-8")
    assert load_schedule_file(path).campaigns[0].policy.min_balance is None
    path.write_text(BASE + 'min_balance = "lots"\n', encoding="utf-8")
    with pytest.raises(InputError, match="key 'min_balance'"):
        load_schedule_file(path)
