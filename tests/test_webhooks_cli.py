"""`dialer serve` and `dialer webhooks register/list` as a user runs them: real processes, the
simulator over HTTP, the state folder shared with the test."""

from __future__ import annotations

import json
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx
import pytest

from campaigns.backends import STATE_FILE
from campaigns.store.rows import RowStatus
from campaigns.store.sqlite_store import SqliteStore
from dialer.receiver import WEBHOOK_PATH
from dialer.settings import Secret
from dialer.simulator.server import SimulatorHandle
from dialer.voxpria.signatures import HEADER_A, sign_a
from tests.cli_support import Done, dialer_env, wait_until
from tests.engine_support import CID
from tests.test_webhooks_support import call_event, live_calls

pytestmark = pytest.mark.integration  # `dialer` processes, the simulator over HTTP

KEY = "agl_sk_test_webhooks_cli_key"
SECRET = "whsec_cli_test_secret_abcdefghijklmnop"
HOOK_URL = "https://hooks.example.com/webhooks/voxpria"
# The commands as the `dialer` script runs them once dialer/cli/main.py adds them to its group.
DIALER = (
    "from dialer.cli.main import cli, main; from dialer.cli.webhooks import serve, webhooks; "
    "cli.add_command(serve); cli.add_command(webhooks); main()"
)


def command(args: Sequence[str]) -> list[str]:
    return [sys.executable, "-c", DIALER, *args]


def run(args: Sequence[str], env: dict[str, str]) -> Done:
    started = time.monotonic()
    done = subprocess.run(
        command(args), env=env, capture_output=True, text=True, timeout=60, check=False
    )
    return Done(done.returncode, done.stdout, done.stderr, time.monotonic() - started)


@pytest.fixture
def sim(start_sim: Callable[..., SimulatorHandle]) -> SimulatorHandle:
    return start_sim(api_key=Secret(KEY), speed=1.0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- dialer serve ---


def test_serve_without_a_secret_refuses_to_start_and_says_how_to_get_one(tmp_path: Path) -> None:
    done = run(["serve", "--port", str(free_port())], dialer_env(tmp_path / "home"))
    assert done.returncode == 2, done.output
    assert "VOXPRIA_WEBHOOK_SECRET" in done.stderr and "dialer webhooks register" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_records_signed_events_into_the_state_folder(tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = SqliteStore(home / STATE_FILE)  # a run's store, shared through the state folder
    call_ids = live_calls(store, n=2)
    port = free_port()
    env = dialer_env(home, VOXPRIA_WEBHOOK_SECRET=SECRET)
    proc = subprocess.Popen(
        command(["serve", "--port", str(port)]),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    root = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _healthy(root), timeout_s=20, what="dialer serve to answer")
        body = json.dumps(call_event("call.ended", call_ids[1], status="busy")).encode()
        good = httpx.post(root + WEBHOOK_PATH, content=body, headers=_signed(body, SECRET))
        forged = httpx.post(root + WEBHOOK_PATH, content=body, headers=_signed(body, "whsec_x"))
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        out, err = proc.communicate(timeout=20)
    assert (good.status_code, forged.status_code) == (200, 401)
    row = store.get_row(CID, 1)
    assert row is not None and row.status is RowStatus.BUSY
    assert proc.returncode == 0 and "receiver stopped" in err, err
    assert SECRET not in out + err and "call.ended" in err  # the event is logged, not the secret
    store.close()


def _healthy(root: str) -> bool:
    try:
        return httpx.get(root + "/healthz", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _signed(body: bytes, secret: str) -> dict[str, str]:
    return {HEADER_A: sign_a(Secret(secret), body), "content-type": "application/json"}


# --- dialer webhooks register / list ---


def test_register_saves_the_secret_for_its_owner_only_and_never_prints_it(
    tmp_path: Path, sim: SimulatorHandle
) -> None:
    home = tmp_path / "home"
    env = dialer_env(home, base_url=sim.base_url, api_key=KEY)
    done = run(["webhooks", "register", "--url", HOOK_URL], env)
    assert done.returncode == 0, done.output
    secret_file = home / "webhook-secret"
    secret = secret_file.read_text().strip()
    assert secret.startswith("whsec_") and secret not in done.stdout + done.stderr
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert "wh_" in done.stdout and "export VOXPRIA_WEBHOOK_SECRET" in done.stdout
    listed = run(["webhooks", "list"], env)
    assert listed.returncode == 0 and HOOK_URL in listed.stdout
    assert "call.completed" in listed.stdout and secret not in listed.stdout


def test_register_show_secret_prints_an_export_line(tmp_path: Path, sim: SimulatorHandle) -> None:
    home = tmp_path / "home"
    env = dialer_env(home, base_url=sim.base_url, api_key=KEY)
    done = run(["webhooks", "register", "--url", HOOK_URL, "--show-secret"], env)
    assert done.returncode == 0, done.output
    export = [line for line in done.stdout.splitlines() if line.startswith("export ")]
    assert len(export) == 1 and export[0].startswith("export VOXPRIA_WEBHOOK_SECRET=whsec_")
    assert not (home / "webhook-secret").exists()


def test_register_never_overwrites_a_saved_secret(tmp_path: Path, sim: SimulatorHandle) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "webhook-secret").write_text("whsec_previous\n")
    env = dialer_env(home, base_url=sim.base_url, api_key=KEY)
    done = run(["webhooks", "register", "--url", HOOK_URL], env)
    assert done.returncode == 2 and "--secret-file" in done.stderr
    assert (home / "webhook-secret").read_text() == "whsec_previous\n"
    assert "POST /webhooks" not in sim.sim.stats()  # nothing registered in vain


def test_a_refused_registration_leaves_no_secret_file(tmp_path: Path, sim: SimulatorHandle) -> None:
    home = tmp_path / "home"
    env = dialer_env(home, base_url=sim.base_url, api_key="agl_sk_wrong_key_1234")
    done = run(["webhooks", "register", "--url", HOOK_URL], env)
    assert done.returncode == 1 and "401" in done.stderr
    assert not (home / "webhook-secret").exists()
    assert "agl_sk_wrong_key_1234" not in done.output


@pytest.mark.parametrize("url", ["hooks.example.com/webhooks/voxpria", "ftp://x/y", ""])
def test_register_refuses_what_is_not_a_url(tmp_path: Path, url: str) -> None:
    env = dialer_env(tmp_path / "home", base_url="http://127.0.0.1:9/api/v1", api_key=KEY)
    done = run(["webhooks", "register", "--url", url], env)
    assert done.returncode == 2 and "--url" in done.stderr


def test_list_with_no_webhooks_says_how_to_add_one(tmp_path: Path, sim: SimulatorHandle) -> None:
    env = dialer_env(tmp_path / "home", base_url=sim.base_url, api_key=KEY)
    done = run(["webhooks", "list"], env)
    assert done.returncode == 0 and "dialer webhooks register" in done.stdout
