"""The simulators the bench measures against, the contact lists it dials, and what the
simulator saw (its audit of created calls and its request counts)."""

from __future__ import annotations

import csv
import secrets
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dialer.settings import Secret
from dialer.simulator.server import SimulatorHandle, running_simulator

INSTANT_SPEED = 1_000_000.0  # a 3-minute call is over in a fifth of a millisecond
AGENT_ID = "agent_demo"
TWO_MINUTES_S = 120.0


def new_api_key() -> str:
    return "bench_sk_" + secrets.token_hex(8)


@contextmanager
def instant_simulator(api_key: str) -> Iterator[SimulatorHandle]:
    """Calls end at once; no quotas: only the dialer's own pacing limits it."""
    with running_simulator(
        api_key=Secret(api_key), speed=INSTANT_SPEED, call_limit=None, request_limit=None
    ) as handle:
        yield handle


@contextmanager
def two_minute_simulator(api_key: str, speed: float) -> Iterator[SimulatorHandle]:
    """Every call is answered and talks two minutes, `speed` times faster than real life."""
    with running_simulator(
        api_key=Secret(api_key),
        speed=speed,
        talk_s=(TWO_MINUTES_S, TWO_MINUTES_S),
        outcome_weights={"completed": 1.0},
        call_limit=None,
        request_limit=None,
    ) as handle:
        yield handle


def numbers(count: int, start: int = 0) -> list[str]:
    """Distinct valid US numbers in E.164."""
    return [f"+1212{200 + i // 10_000:03d}{i % 10_000:04d}" for i in range(start, start + count)]


def write_contacts(path: Path, nums: list[str]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["name", "phone"])
        writer.writerows([f"Person {i}", n] for i, n in enumerate(nums))
    return path


def created_times(handle: SimulatorHandle, nums: set[str] | None = None) -> list[float]:
    """When each call (to one of `nums`, if given) was created, by the simulator's clock."""
    return [e.created_s for e in handle.sim.audit() if nums is None or e.to_number in nums]


def calls_created(handle: SimulatorHandle, nums: set[str] | None = None) -> int:
    return len(created_times(handle, nums))


def phoned_twice(handle: SimulatorHandle) -> int:
    """Numbers that received more than one call: the dialer must keep this at 0."""
    per_number = Counter(e.to_number for e in handle.sim.audit())
    return sum(1 for n in per_number.values() if n > 1)


def requests_total(handle: SimulatorHandle) -> int:
    """API requests the simulator received, of every kind (its `/_sim` back door excepted)."""
    return sum(handle.sim.stats().values())
