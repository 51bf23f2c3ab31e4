"""Shared fixtures: the API key, the simulator, stores and Redis, each made once here.

Simulator over real HTTP (all are stopped when the test ends):

    def test_x(simulator: SimulatorHandle, api_key: str) -> None:      # the usual one
        client = VoxpriaClient(simulator.base_url, Secret(api_key))

    def test_y(start_sim: StartSim) -> None:                            # other settings
        sim = start_sim(p_lost_after_create=1.0, speed=120.0)

`start_sim(**overrides)` takes `SimulatorConfig` fields; by default it accepts only `api_key` (a
test sending another key sees a 401), runs calls 600 times faster than life (a 2-minute call lasts
0.2 s) and has quotas off. `simulator` is `start_sim()`.

Stores: `store` is each `RowStore` in turn: "sqlite", "fakeredis" (Lua included) and "redis" (a
real server; marked integration). A module that wants fewer kinds overrides it:

    @pytest.fixture(params=store_params("sqlite", "redis"))      # from tests.redis_support
    def store(request: pytest.FixtureRequest, make_store: MakeStore) -> RowStore:
        return make_store(request.param)

`make_store(kind)` builds one directly; called again with the same kind in the same test it
opens the same state (a restarted process). Type names for annotations: `StartSim` in
tests.simulator_server, `MakeStore`, `MakeRedis` and `RedisSpace` in tests.redis_support.

Redis: `redis_space` is a `RedisSpace` (client, keys under a prefix of the test's own) on
fakeredis, then on real Redis; `make_redis(kind)` builds one. `real_redis` is (client, prefix)
on the real server's database 0. `cluster_redis` is this xdist worker's own real database
(flushed before and after) for `dialer worker` processes: `tests.cluster_support`.
Where the real server comes from, and what happens without one: `tests.redis_support`.

Markers: a test that starts processes or servers (the simulator over HTTP, subprocesses, a Redis
server, Chromium) is `integration`; `make test-fast` runs the others (`-m "not integration"`).
Tests using the fixtures above that need servers are marked automatically (INTEGRATION_FIXTURES);
a test starting one itself says `pytestmark = pytest.mark.integration`. An unmarked test that
starts a process or listens on a socket fails, naming the marker.
"""

from __future__ import annotations

import secrets
import socket
import subprocess
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from campaigns.store.redis_store import RedisStore
from campaigns.store.rows import RowStore
from campaigns.store.sqlite_store import SqliteStore
from dialer.settings import Secret
from tests.redis_support import (
    REDIS_KINDS,
    STORE_KINDS,
    MakeRedis,
    MakeStore,
    RedisSpace,
    open_redis_space,
    stop_own_server,
    store_params,
    whole_database,
)
from tests.redis_support import real_redis as real_redis  # re-exported fixture
from tests.simulator_server import SimulatorHandle, StartSim, running_simulator

FAST_SPEED = 600.0


# Fixtures that start a server: every test using one (even through another fixture) is marked.
INTEGRATION_FIXTURES = frozenset({"start_sim", "simulator", "real_redis", "cluster_redis"})


# --- the simulator ------------------------------------------------------------------------------


@pytest.fixture
def api_key() -> str:
    return "agl_sk_test_" + secrets.token_hex(12)


@pytest.fixture
def start_sim(api_key: str) -> Iterator[StartSim]:
    with ExitStack() as running:

        def start(**overrides: Any) -> SimulatorHandle:
            options: dict[str, Any] = {
                "api_key": Secret(api_key),
                "speed": FAST_SPEED,
                "call_limit": None,
                "request_limit": None,
            }
            return running.enter_context(running_simulator(**(options | overrides)))

        yield start


@pytest.fixture
def simulator(start_sim: StartSim) -> SimulatorHandle:
    return start_sim()


# --- stores -------------------------------------------------------------------------------------


@pytest.fixture
def make_redis() -> Iterator[MakeRedis]:
    with ExitStack() as opened:

        def make(kind: str) -> RedisSpace:
            return opened.enter_context(open_redis_space(kind))

        yield make


@pytest.fixture(name="redis_space", params=store_params(*REDIS_KINDS))
def redis_space_each(request: pytest.FixtureRequest, make_redis: MakeRedis) -> RedisSpace:
    return make_redis(request.param)


@pytest.fixture
def make_store(tmp_path: Path, make_redis: MakeRedis) -> Iterator[MakeStore]:
    spaces: dict[str, RedisSpace] = {}
    sqlite: list[SqliteStore] = []

    def make(kind: str, account: str = "") -> RowStore:
        """A store of `kind`; `account` tags its contact history (see SqliteStore)."""
        if kind == "sqlite":
            sqlite.append(SqliteStore(tmp_path / "state.sqlite", account=account))
            return sqlite[-1]
        if kind not in spaces:
            spaces[kind] = make_redis(kind)
        return RedisStore(spaces[kind].client, spaces[kind].keys, account=account)

    yield make
    for s in sqlite:
        s.close()


@pytest.fixture(params=store_params(*STORE_KINDS))
def store(request: pytest.FixtureRequest, make_store: MakeStore) -> RowStore:
    return make_store(request.param)


# --- real Redis ---------------------------------------------------------------------------------


@pytest.fixture
def cluster_redis() -> Iterator[Any]:
    with whole_database() as client:
        yield client


# --- markers ------------------------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if INTEGRATION_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


def pytest_unconfigure() -> None:
    stop_own_server()


class UnmarkedServer(Exception):
    """A test that is not marked integration started a process or a server."""


@pytest.fixture(autouse=True)
def _only_integration_tests_start_servers(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    if request.node.get_closest_marker("integration"):
        yield
        return
    seen: list[str] = []

    def refuse(what: str) -> Callable[..., Any]:
        def refused(*args: Any, **kwargs: Any) -> Any:
            message = (
                f"{request.node.nodeid} {what} but is not marked integration: add "
                "`pytestmark = pytest.mark.integration` (or @pytest.mark.integration) so that "
                "`make test-fast` leaves it out"
            )
            seen.append(message)
            raise UnmarkedServer(message)

        return refused

    monkeypatch.setattr(subprocess.Popen, "_execute_child", refuse("starts a process"))
    monkeypatch.setattr(socket.socket, "listen", refuse("listens on a socket"))
    yield
    if seen:
        pytest.fail(seen[0], pytrace=False)
