"""The dialer run as users run it: `dialer run` (embedded), `dialer worker` processes and
`dialer run --detach` (cluster), configured through the environment of CONTRACT.md."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import redis

from campaigns.store.redis_store import RedisStore
from campaigns.store.rows import CampaignState
from dialer.keys import RedisKeys
from dialer.simulator.server import SimulatorHandle
from tests.bench.procs import Processes, say, wait_until
from tests.bench.sims import AGENT_ID, calls_created

DIALER = str(Path(sys.executable).with_name("dialer"))
WORKER_READY_TIMEOUT_S = 60.0
SUBMIT_TIMEOUT_S = 60.0
READY_LINE = b" ready."  # what a Celery worker logs once it consumes


@dataclass(frozen=True)
class DialerSetup:
    """The settings a run or a worker gets: limits as `N/s`, poll intervals in seconds."""

    base_url: str
    api_key: str
    home: Path  # DIALER_HOME: the embedded store's folder
    call_limit: str
    request_limit: str
    poll_min_s: float = 10.0
    poll_max_s: float = 60.0
    redis_url: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        names = ("VOXPRIA_", "DIALER_", "REDIS_URL")
        env = {k: v for k, v in os.environ.items() if not k.startswith(names)}
        env.update(
            VOXPRIA_BASE_URL=self.base_url,
            VOXPRIA_API_KEY=self.api_key,
            VOXPRIA_CALL_LIMIT=self.call_limit,
            VOXPRIA_REQUEST_LIMIT=self.request_limit,
            DIALER_POLL_MIN_S=f"{self.poll_min_s:g}",
            DIALER_POLL_MAX_S=f"{self.poll_max_s:g}",
            DIALER_HOME=str(self.home),
        )
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
            # the benchmark's Redis is a throwaway: it need not fsync every write
            env["DIALER_ALLOW_VOLATILE_REDIS"] = "1"
        env.update(self.extra)
        return env


def run_argv(
    contacts: Path, campaign: str, max_active: int, rate: str | None, report: Path
) -> list[str]:
    argv = [DIALER, "run", str(contacts), "--agent", AGENT_ID, "--window", "any"]
    argv += ["--max-active", str(max_active), "--campaign", campaign]
    argv += ["--report", str(report), "--quiet"]
    return argv + (["--rate", rate] if rate else [])


def start_embedded(
    procs: Processes,
    setup: DialerSetup,
    contacts: Path,
    *,
    campaign: str,
    max_active: int,
    rate: str | None = None,
) -> subprocess.Popen[bytes]:
    """`dialer run` in embedded mode; its report goes to `<home>/<campaign>.csv`."""
    argv = run_argv(contacts, campaign, max_active, rate, setup.home / f"{campaign}.csv")
    return procs.start(f"run-{campaign}", argv, setup.env())


def start_workers(procs: Processes, setup: DialerSetup, count: int, tag: str) -> None:
    """`count` more `dialer worker --concurrency 1` processes; returns once each consumes."""
    names = [f"worker-{tag}-{i}" for i in range(count)]
    argv = [DIALER, "worker", "--concurrency", "1", "--loglevel", "INFO"]
    for name in names:
        procs.start(name, argv, setup.env())
    waited_s = wait_until(
        lambda: all(READY_LINE in _read(procs.log_path(n)) for n in names),
        WORKER_READY_TIMEOUT_S,
        f"{count} dialer workers to start",
        interval_s=0.1,
    )
    say(f"  {count} dialer workers ready in {waited_s:.1f} s")


def submit(
    setup: DialerSetup, contacts: Path, *, campaign: str, max_active: int, rate: str | None
) -> None:
    """`dialer run --detach`: the campaign is created and handed to the workers."""
    argv = run_argv(contacts, campaign, max_active, rate, setup.home / f"{campaign}.csv")
    started = time.monotonic()
    done = subprocess.run(
        [*argv, "--detach"],
        env=setup.env(),
        capture_output=True,
        text=True,
        timeout=SUBMIT_TIMEOUT_S,
    )
    if done.returncode != 0 or done.stdout.strip() != campaign:
        raise RuntimeError(f"dialer run --detach failed ({done.returncode}): {done.stderr}")
    say(f"  {campaign} submitted in {time.monotonic() - started:.1f} s")


def cluster_store(client: redis.Redis[str]) -> RedisStore:
    return RedisStore(client, RedisKeys())


def campaign_slots(client: redis.Redis[str], campaign: str) -> int:
    """How many shifts the cluster runs at once for the campaign (set at submission)."""
    meta = cluster_store(client).get_campaign(campaign)
    return int(str(meta.settings.get("slots", 0))) if meta else 0


def campaign_ended(client: redis.Redis[str], campaign: str) -> bool:
    meta = cluster_store(client).get_campaign(campaign)
    return meta is not None and meta.state is not CampaignState.RUNNING


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def wait_for_calls(
    sim: SimulatorHandle,
    count: int,
    timeout_s: float,
    what: str,
    *,
    nums: set[str] | None = None,
    watch: Sequence[subprocess.Popen[bytes]] = (),
) -> None:
    """Until the simulator has created `count` calls (to `nums`, if given); a watched process
    that exits first fails the wait at once."""

    def done() -> bool:
        for proc in watch:
            if proc.poll() is not None:
                rc = proc.returncode
                raise RuntimeError(f"{what}: a process exited early ({rc}): {proc.args!r}")
        return calls_created(sim, nums) >= count

    wait_until(done, timeout_s, what)
