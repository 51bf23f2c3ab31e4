"""End to end: the simulator calls and pushes its events -> `dialer serve`'s app (uvicorn in a
thread, real HTTP) -> the store -> the rows, with the engine polling only overdue calls. Every
row must end with the simulator's own status, whatever deliveries were lost or repeated, and
webhooks must save the polling they are there to save."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from campaigns.store.rows import RowStatus, RowStore
from tests.bench.webhooks import CampaignResult, Scenario, run_webhook_campaign
from tests.redis_support import store_params
from tests.test_webhooks_support import open_store

pytestmark = pytest.mark.integration  # the simulator and the receiver over real HTTP

API_FINAL = {RowStatus.COMPLETED, RowStatus.FAILED, RowStatus.NO_ANSWER, RowStatus.BUSY}
# Speed 600 makes a 3-minute call last 0.3 s: fast, but an unanswered call may end (and its
# event arrive) before its creation is recorded; the poll catches those. The economy runs at
# speed 100, where that is rare, as it is in real life.
FAST = 600.0
REALISTIC = 100.0


@pytest.fixture(params=store_params("sqlite", "redis"))
def store(request: pytest.FixtureRequest, make_store: Callable[[str], RowStore]) -> RowStore:
    return make_store(request.param)


def assert_every_row_right(result: CampaignResult, calls: int) -> None:
    assert result.wrong_rows() == []
    assert all(r.status in API_FINAL and r.attempts == 1 for r in result.rows)
    assert len(result.calls_per_number) == calls
    assert set(result.calls_per_number.values()) == {1}  # nobody phoned twice


@pytest.mark.parametrize(("scheme", "payload"), [("A", "callId"), ("B", "id")])
def test_every_row_ends_right_with_deliveries_dropped_and_repeated(
    store: RowStore, scheme: str, payload: str
) -> None:
    scenario = Scenario(
        calls=60, speed=FAST, p_drop=0.2, p_duplicate=0.2, scheme=scheme, payload=payload, seed=3
    )
    result = run_webhook_campaign(store, scenario, deadline_s=60)
    assert_every_row_right(result, 60)
    deliveries = result.deliveries
    assert deliveries["dropped"] > 0 and deliveries["duplicated"] > 0  # both faults happened
    assert result.polls > 0  # and the poller made up for the dropped ones
    print(f"\n{scheme}/{payload}: {result.requests_per_call:.3f} requests per call, {deliveries}")


def test_webhooks_bring_requests_per_call_down_to_about_one(tmp_path: Path) -> None:
    figures: dict[str, float] = {}
    for name, scenario in {
        "polling only": Scenario(calls=80, speed=REALISTIC, webhooks=False),
        "webhooks": Scenario(calls=80, speed=REALISTIC),
        "webhooks, 20% dropped": Scenario(calls=80, speed=REALISTIC, p_drop=0.2),
    }.items():
        with open_store("sqlite", tmp_path / name.replace(" ", "_")) as store:
            result = run_webhook_campaign(store, scenario, deadline_s=60)
        assert_every_row_right(result, 80)
        figures[name] = result.requests_per_call
    shown = ", ".join(f"{name}: {value:.3f}" for name, value in figures.items())
    print(f"\nAPI requests per completed call: {shown}")
    assert figures["webhooks"] <= 1.05, shown
    assert figures["webhooks, 20% dropped"] < figures["polling only"], shown
    assert figures["webhooks, 20% dropped"] <= 1.25, shown
