"""Operations the Celery way, end to end: a real `celery -A workers worker` (not `dialer worker`)
on real Redis completes a campaign over the simulator's real HTTP; Celery's own `inspect` answers
it; its `/metrics` port agrees with the simulator; its JSON log lines parse and never hold the
key; `dialer status --json` sees it consuming."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from campaigns.store.redis_store import RedisStore
from campaigns.store.rows import CampaignState
from dialer.keys import RedisKeys
from dialer.settings import Rate, Secret
from tests.cluster_support import cluster_env, dialer, own_database, wait_until
from tests.simulator_server import running_simulator
from tests.test_cluster import submit, write_list

pytestmark = pytest.mark.integration

CELERY = str(Path(sys.executable).with_name("celery"))
SPEED = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def celery(args: list[str], env: Mapping[str, str], timeout_s: float = 60) -> str:
    done = subprocess.run(
        [CELERY, "-A", "workers", *args], env=dict(env), capture_output=True, text=True,
        timeout=timeout_s,
    )  # fmt: skip
    return done.stdout + done.stderr


def scrape(port: int) -> dict[str, float]:
    """The exposition's samples, `name{labels}` -> value."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def total(samples: dict[str, float], name: str) -> float:
    return sum(v for k, v in samples.items() if re.fullmatch(rf"{name}(\{{.*\}})?", k))


class CeleryWorker:
    """`celery -A workers worker` in its own process group; logs on stderr, banner on stdout."""

    def __init__(self, env: Mapping[str, str], tmp: Path, name: str) -> None:
        self.stderr_path = tmp / f"{name}.stderr"
        self.stdout_path = tmp / f"{name}.stdout"
        with self.stderr_path.open("wb") as err, self.stdout_path.open("wb") as out:
            self.proc = subprocess.Popen(
                [CELERY, "-A", "workers", "worker", "-l", "INFO", "-c", "2", "-n", f"{name}@%h"],
                env=dict(env), stdout=out, stderr=err, start_new_session=True,
            )  # fmt: skip

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


@pytest.fixture
def store_and_tmp(tmp_path: Path) -> Iterator[tuple[RedisStore, Path]]:
    with own_database() as client:
        yield RedisStore(client, RedisKeys()), tmp_path


def test_a_celery_worker_completes_a_campaign_and_tells_operators_the_truth(
    store_and_tmp: tuple[RedisStore, Path], api_key: str
) -> None:
    store, tmp = store_and_tmp
    port = free_port()
    with running_simulator(
        api_key=Secret(api_key),
        speed=SPEED,
        call_limit=Rate(8, 1),  # under the workers' 12/s: the quota answers 429 now and then
        request_limit=None,
        p_429=0.03,  # and spurious 429s besides
        seed=5,
    ) as sim:
        env = cluster_env(
            sim.base_url,
            api_key,
            tmp,
            VOXPRIA_CALL_LIMIT="12/s",
            DIALER_METRICS_PORT=str(port),
            DIALER_LOG_FORMAT="json",
            PROMETHEUS_MULTIPROC_DIR=str(tmp / "metrics"),
            DIALER_SHIFT_QUEUE="ops.shifts",  # a deployment's own queue for the dialer
        )
        worker = CeleryWorker(env, tmp, "ops1")
        try:
            wait_until(lambda: "pong" in celery(["inspect", "ping"], env), 60, "inspect ping")
            # the worker consumes the named queue only, so the campaign ending proves the
            # shifts were routed to it; one message reserved per process (long tasks)
            queues = celery(["inspect", "active_queues"], env)
            assert "* {'name': 'ops.shifts'" in queues and "{'name': 'celery'" not in queues, queues
            assert '"prefetch_count": 2' in celery(["inspect", "stats"], env)
            nums = write_list(tmp / "list.csv", 120)
            cid = submit(tmp / "list.csv", env)

            wait_until(lambda: len(sim.sim.audit()) >= 20, 60, "calls under way")
            during = scrape(port)
            assert 0 < total(during, "dialer_calls_created_total") <= len(sim.sim.audit())
            assert during[f'dialer_rows{{campaign="{cid}",status="pending"}}'] >= 0
            shown = dialer(["status", "--json"], env)
            assert shown.returncode == 0, shown.stderr
            view = json.loads(shown.stdout)
            assert [c["campaign"] for c in view["campaigns"]] == [cid]
            assert [(w["name"].split("@")[0], w["processes"]) for w in view["workers"]] == [
                ("ops1", 2)
            ]
            # a shift is running nearly always (between two of them, none is)
            wait_until(
                lambda: cid in celery(["inspect", "active"], env), 90, "inspect active: a shift"
            )

            wait_until(lambda: _ended(store, cid), 120, "the campaign to end")
            after = scrape(port)  # the worker still runs
        finally:
            worker.stop()
        meta = store.get_campaign(cid)
        assert meta is not None and meta.state is CampaignState.FINISHED
        assert len({e.to_number for e in sim.sim.audit()}) == len(sim.sim.audit()) == len(nums)
        assert total(after, "dialer_calls_created_total") == len(sim.sim.audit())
        assert sim.sim.throttled() > 0, "the test meant to provoke 429s"
        assert total(after, "dialer_api_throttled_total") == sim.sim.throttled()
        assert total(after, "dialer_post_outcomes_total") == sim.sim.stats()["POST /calls"]

    _check_json_logs(worker.stderr_path.read_text(), api_key, cid)


def _ended(store: RedisStore, cid: str) -> bool:
    meta = store.get_campaign(cid)
    return meta is not None and meta.state is not CampaignState.RUNNING


def _check_json_logs(text: str, api_key: str, cid: str) -> None:
    assert api_key not in text
    entries = [json.loads(line) for line in text.splitlines()]  # each line is one object
    assert all({"time", "level", "logger", "message"} <= e.keys() for e in entries)
    created = [e for e in entries if e.get("event") == "call_created"]
    assert created, "no call_created records"
    assert all(e["campaign"] == cid and e["row"] >= 1 and e["call_id"] for e in created)


def test_flower_status_and_events_show_the_shifts_by_name_and_arguments(
    store_and_tmp: tuple[RedisStore, Path], api_key: str
) -> None:
    store, tmp = store_and_tmp
    flower_port = free_port()
    with running_simulator(
        api_key=Secret(api_key), speed=SPEED, call_limit=None, request_limit=None
    ) as sim:
        env = cluster_env(sim.base_url, api_key, tmp, FLOWER_UNAUTHENTICATED_API="true")
        worker = CeleryWorker(env, tmp, "ops2")
        with (tmp / "flower.log").open("wb") as flower_log, (tmp / "events.log").open("wb") as ev:
            flower = subprocess.Popen(
                [CELERY, "-A", "workers", "flower", f"--port={flower_port}",
                 "--address=127.0.0.1"],
                env=env, stdout=flower_log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
            events = subprocess.Popen(
                [CELERY, "-A", "workers", "events", "--dump"],
                env=env, stdout=ev, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        try:
            wait_until(lambda: "ops2@" in celery(["status"], env), 60, "celery status")
            wait_until(lambda: _flower(flower_port, "/healthcheck") == "OK", 60, "flower")
            write_list(tmp / "list.csv", 20)
            cid = submit(tmp / "list.csv", env)

            def shift_shown() -> bool:
                tasks = json.loads(_flower(flower_port, "/api/tasks") or "{}")
                return any(
                    t["name"] == "dialer.drive" and f"'campaign_id': '{cid}'" in t["kwargs"]
                    for t in tasks.values()
                )

            wait_until(shift_shown, 60, "Flower to show a shift of the campaign")
            wait_until(lambda: _ended(store, cid), 60, "the campaign to end")
            dumped = (tmp / "events.log").read_text()
            assert "dialer.drive" in dumped and cid in dumped, dumped[-2000:]
        finally:
            for proc in (flower, events):
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(20)
            worker.stop()
        assert len(sim.sim.audit()) == 20


def _flower(port: int, path: str) -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
            return str(answer.read().decode())
    except OSError:
        return None


def test_celery_tools_without_redis_url_say_what_to_set_in_one_line(tmp_path: Path) -> None:
    """Importing the package reads no settings (library code may import it); Celery's own
    commands, which configure the app, say what is missing in one line and exit 2."""
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DIALER_HOME": str(tmp_path)}
    imported = subprocess.run(
        [sys.executable, "-c", "import workers; print(type(workers.celery).__name__)"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert imported.returncode == 0 and imported.stdout.strip() == "DialerCelery", imported.stderr
    for args in (["inspect", "ping"], ["worker", "-l", "INFO"]):
        done = subprocess.run(
            [CELERY, "-A", "workers", *args], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 2, (args, done.stderr)
        assert "REDIS_URL is not set" in done.stderr and "export REDIS_URL=" in done.stderr
        assert "Traceback" not in done.stderr, done.stderr
