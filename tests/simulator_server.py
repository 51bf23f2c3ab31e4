"""The Voxpria simulator over real HTTP, for integration tests (see `dialer.simulator.server`).

    with running_simulator(p_lost_after_create=1.0) as sim:
        client = VoxpriaClient(sim.base_url, Secret(sim.api_key or "any"))

The implementation lives in `dialer/` because `dialer run --simulate` serves it too.
"""

from collections.abc import Callable

from dialer.simulator.server import SimulatorHandle, running_simulator

StartSim = Callable[..., SimulatorHandle]  # conftest's `start_sim`

__all__ = ["SimulatorHandle", "StartSim", "running_simulator"]
