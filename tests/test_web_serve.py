"""`dialer serve` as a user runs it: it starts when either the webhook secret or the page's
token is set, says which parts are on, and refuses (exit 2, saying how) when neither is."""

from __future__ import annotations

import signal
import socket
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.cli_support import DIALER, dialer_env, run_dialer, wait_until
from tests.web_support import TOKEN

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_with_neither_setting_refuses_and_names_both(tmp_path: Path) -> None:
    done = run_dialer(["serve", "--port", str(free_port())], dialer_env(tmp_path / "home"))
    assert done.returncode == 2, done.output
    assert "VOXPRIA_WEBHOOK_SECRET" in done.stderr and "DIALER_UI_TOKEN" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_with_only_the_token_serves_the_page_and_says_the_receiver_is_off(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = dialer_env(tmp_path / "home", DIALER_UI_TOKEN=TOKEN)
    proc = subprocess.Popen(
        [str(DIALER), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    root = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(root), timeout_s=20, what="dialer serve to answer")
        page = httpx.get(root + "/")
        delivery = httpx.post(root + "/webhooks/voxpria", content=b"{}")
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        out, err = proc.communicate(timeout=20)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert delivery.status_code == 503
    assert "Web page: on" in err and "Webhook receiver: off" in err, err
    assert "VOXPRIA_API_KEY is not set" in err  # the page cannot start calls without it
    assert proc.returncode == 0 and TOKEN not in out + err


def _answers(root: str) -> bool:
    try:
        return httpx.get(root + "/healthz", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False
