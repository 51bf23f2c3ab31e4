"""The web page served for tests: `dialer serve`'s app over a temporary state folder, talking to
the simulator over real HTTP, served by uvicorn in a thread on a free port.

    with web_server(tmp_path, sim, api_key) as web:
        client = signed_in(web.root_url, TOKEN)
        page = client.get(web.root_url + "/new")

A messy contact list with a `<script>` in a name, and helpers to sign in and read a page's CSRF
token, are here too. Nothing sleeps for a fixed time: `wait_until` polls a condition.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx

from campaigns.backends import Services, open_services
from dialer.clock import SystemClock
from dialer.receiver import running_webhook_server
from dialer.settings import Rate, Secret, Settings
from dialer.simulator.server import SimulatorHandle
from dialer.web.app import build_serve_app
from dialer.web.runs import CampaignRuns

TOKEN = "ui-token-for-tests-0123456789abcdef"
WEBHOOK_SECRET = "whsec_web_tests"
SPEED = 600.0  # the simulator's: a 2-minute call lasts 0.2 s
SCRIPT_NAME = "<script>alert(1)</script>"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')

HEADER = ["ID", "Name", "Phone", "Notes"]
# (cells, what the plan makes of the row)
MESSY: list[tuple[list[str], str]] = [
    (["00123", SCRIPT_NAME, "(206) 451-3657", "=1+2"], "ready"),
    (["00124", 'Wojciech "Ace" Jones', "+44 20 7946 0429", "@SUM(A1)"], "ready"),
    (["007", "Văn Ferreira", "206.451.3657", "same number as row 2"], "duplicate"),
    (["0100", "Björn O'Brien", "415-555-01", "line one\nline two"], "invalid"),
    (["0101", "<img src=x onerror=alert(2)>", "=1+2", "formula for a number"], "invalid"),
    (["0102", "", "", "no phone at all"], "invalid"),
    (["0103", "Søren Müller", "+33 1 42 68 53 00", "  padded  "], "ready"),
    (["0104", "Ana-María Núñez", "0049 30 901820", "-2+3"], "ready"),
    (["0106", "陈伟", "+81 3-3224-9999", "日本語のメモ"], "ready"),
    (["0107", "Dmitri", "1-312-421-5517", ""], "ready"),
]
# One of each final status, so the chart and the report show every kind.
FORCED = {"+12064513657": "busy", "+442079460429": "no_answer", "+4930901820": "failed"}


def write_messy_csv(path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows([HEADER, *(cells for cells, _ in MESSY)])
    return path


def expected_counts() -> dict[str, int]:
    counts: dict[str, int] = {}
    for _, status in MESSY:
        counts[status] = counts.get(status, 0) + 1
    return counts


@dataclass(frozen=True)
class WebServer:
    root_url: str
    settings: Settings
    services: Services
    runs: CampaignRuns


def web_settings(
    home: Path, sim: SimulatorHandle | None, api_key: str, **overrides: Any
) -> Settings:
    """Settings as the environment of `dialer serve` would give them for a test: limits high
    enough not to pace it, polls fast enough for a simulator at SPEED."""
    settings = Settings(
        api_key=Secret(api_key),
        base_url=sim.base_url if sim else "http://127.0.0.1:9/api/v1",
        call_limit=Rate(1000, 1),
        request_limit=Rate(10000, 1),
        home=home,
        poll_min_s=0.05,
        poll_max_s=0.2,
        ui_token=Secret(TOKEN),
        webhook_secret=Secret(WEBHOOK_SECRET),
    )
    return replace(settings, **overrides)


@contextmanager
def web_server(settings: Settings, **serve_options: Any) -> Iterator[WebServer]:
    """`dialer serve`'s one app (receiver and page, each on as its setting is);
    `serve_options` go to build_serve_app (sign_in_limits, ...)."""
    clock = SystemClock()
    services = open_services(settings, clock)
    try:
        options = {"failed_sign_in_delay_s": 0.0, **serve_options}
        served = build_serve_app(settings, services, clock, **options)
        with running_webhook_server(served.app) as root_url:
            yield WebServer(root_url, settings, services, served.runs)
            served.runs.stop_all(timeout_s=5.0)
    finally:
        services.close()


PAGE_TIMEOUT_S = 60.0


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def signed_in(root_url: str, token: str = TOKEN) -> httpx.Client:
    """A client holding a signed-in session, as a browser would after the sign-in form."""
    # A plan page reads its list in a child process: on a loaded machine that may take longer
    # than 10 s (the page's own deadline is DIALER_UI_PLAN_TIMEOUT_S, 120 s by default).
    client = httpx.Client(base_url=root_url, timeout=PAGE_TIMEOUT_S)
    form = client.get("/login")
    answer = client.post("/login", data={"csrf": csrf_of(form.text), "token": token, "next": "/"})
    assert answer.status_code == 303, answer.text
    return client


def post_form(client: httpx.Client, page_path: str, action: str, **fields: str) -> httpx.Response:
    """Post a form the way its page does: the page's CSRF token, the page's origin."""
    csrf = csrf_of(client.get(page_path).text)
    origin = str(client.base_url).rstrip("/")
    return client.post(action, data={"csrf": csrf, **fields}, headers={"Origin": origin})
