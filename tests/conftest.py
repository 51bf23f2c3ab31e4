"""Shared fixtures: an API key, and the Voxpria simulator over real HTTP.

    def test_something(simulator: SimulatorHandle, api_key: str) -> None:
        client = VoxpriaClient(simulator.base_url, Secret(api_key))

`simulator` accepts only `api_key` (so a test that sends the wrong key sees a 401), runs calls
600 times faster than real life (a 2-minute call lasts 0.2 s) and has quotas turned off. For
other settings, use `running_simulator(...)` from `tests.simulator_server` directly.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from dialer.settings import Secret
from tests.simulator_server import SimulatorHandle, running_simulator

FAST_SPEED = 600.0


@pytest.fixture
def api_key() -> str:
    return "agl_sk_test_" + secrets.token_hex(12)


@pytest.fixture
def simulator(api_key: str) -> Iterator[SimulatorHandle]:
    with running_simulator(
        api_key=Secret(api_key), speed=FAST_SPEED, call_limit=None, request_limit=None
    ) as handle:
        yield handle
