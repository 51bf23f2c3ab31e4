"""The simulator served over real HTTP in a background thread, for `--simulate` and tests.

    with running_simulator(p_lost_after_create=1.0) as sim:
        client = VoxpriaClient(sim.base_url, Secret(sim.api_key or "any"))
        ...
        assert len(sim.sim.audit()) == 1

uvicorn serves the app in a daemon thread on a free 127.0.0.1 port; leaving the block stops it.
Keyword arguments override fields of `SimulatorConfig` (the `config` argument, or the defaults).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import httpx
import uvicorn

from dialer.clock import Clock
from dialer.simulator.answers import quiet_lost_answers
from dialer.simulator.api import Simulator, create_simulator
from dialer.simulator.config import SimulatorConfig

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class SimulatorHandle:
    root_url: str  # http://127.0.0.1:PORT
    sim: Simulator

    @property
    def base_url(self) -> str:
        """The API root a client is given, like VOXPRIA_BASE_URL."""
        return f"{self.root_url}/api/v1"

    @property
    def api_key(self) -> str | None:
        """The key the simulator insists on, or None when it takes any non-empty key."""
        key = self.sim.config.api_key
        return key.reveal() if key else None


@contextmanager
def running_simulator(
    config: SimulatorConfig | None = None, *, clock: Clock | None = None, **overrides: Any
) -> Iterator[SimulatorHandle]:
    """Serve a simulator over HTTP for the duration of the `with` block."""
    simulator = create_simulator(replace(config or SimulatorConfig(), **overrides), clock)
    quiet_lost_answers()
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on such sockets (else 40 ms per answer)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))  # port 0: the OS picks a free port, and it is ours already
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            simulator.app,
            http="h11",
            loop="asyncio",
            lifespan="off",
            log_level="warning",
            timeout_graceful_shutdown=2,
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    handle = SimulatorHandle(f"http://127.0.0.1:{port}", simulator)
    try:
        _wait_until_answering(handle.root_url, thread)
        yield handle
    finally:
        server.should_exit = True
        thread.join(STOP_TIMEOUT_S)
        sock.close()
        simulator.close()  # stop delivering webhooks to a receiver that may be gone


def _wait_until_answering(root_url: str, thread: threading.Thread) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError("the simulator's server thread died while starting")
        try:
            httpx.get(f"{root_url}/_sim/stats", timeout=1.0).raise_for_status()
            return
        except httpx.HTTPError:
            threading.Event().wait(0.02)  # poll interval while the server binds
    raise RuntimeError(f"the simulator at {root_url} did not answer within {START_TIMEOUT_S} s")
