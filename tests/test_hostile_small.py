"""The smaller holes of issue 15, each with its before and after.

- `--agent 'agent_x/../../credits'` went into the URL as it was (httpx resolved it to
  GET /credits); now it is one percent-encoded path segment, and the API's 404 names the agent.
- credentials inside VOXPRIA_BASE_URL were printed in errors and on the page; now never.
- page errors showed server paths (the uploaded file's stored path); now the uploaded name.
- uploads and drafts were never deleted; now when their campaign finishes, or after a day.
- a SQLite or Redis failure reaching a person was a traceback; now one message.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from dialer.clock import SystemClock
from dialer.errors import ApiUnavailable, NotFoundError, SettingsError, StoreError
from dialer.settings import Secret, Settings, shown_url
from dialer.simulator.server import SimulatorHandle
from dialer.store_errors import store_failure
from dialer.web.drafts import DRAFTS_FOLDER
from dialer.web.leftovers import MAX_AGE_S
from dialer.web.uploads import UPLOADS_FOLDER
from tests.cli_support import dialer_env, run_dialer, wait_until
from tests.web_support import (
    csrf_of,
    post_form,
    signed_in,
    web_server,
    web_settings,
    write_messy_csv,
)

pytestmark = pytest.mark.integration

PASSWORD = "hunter2-base-url-password"
TRAVERSAL = "agent_x/../../credits"


# --- the agent id in the URL ------------------------------------------------------------------


def test_an_agent_id_is_one_percent_encoded_path_segment() -> None:
    from dialer.voxpria.client import VoxpriaClient

    seen: list[bytes] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path)
        return httpx.Response(404, json={"success": False, "error": "not found"})

    client = VoxpriaClient(
        "https://api.example/api/v1", Secret("k" * 20), transport=httpx.MockTransport(answer)
    )
    for agent_id in (TRAVERSAL, "..", "a?b=1#c", "a%2Fb"):
        with pytest.raises(NotFoundError, match="does not exist"):
            client.get_agent(agent_id)
    assert seen == [
        b"/api/v1/agents/agent_x%2F%2E%2E%2F%2E%2E%2Fcredits",
        b"/api/v1/agents/%2E%2E",
        b"/api/v1/agents/a%3Fb%3D1%23c",
        b"/api/v1/agents/a%252Fb",
    ]


def test_a_traversing_agent_is_refused_by_the_cli_as_unknown(
    tmp_path: Path, simulator: SimulatorHandle, api_key: str
) -> None:
    contacts = write_messy_csv(tmp_path / "contacts.csv")
    env = dialer_env(tmp_path / "home", base_url=simulator.base_url, api_key=api_key)
    done = run_dialer(["run", str(contacts), "--agent", TRAVERSAL, "--window", "any"], env)
    assert done.returncode == 2, done.output
    assert f"Agent {TRAVERSAL!r} does not exist" in done.stderr
    assert "Traceback" not in done.stderr


# --- credentials in VOXPRIA_BASE_URL ----------------------------------------------------------


def test_base_url_credentials_never_show_in_client_errors() -> None:
    from dialer.voxpria.client import VoxpriaClient

    url = f"http://dialer:{PASSWORD}@127.0.0.1:9/api/v1"  # nothing listens on port 9
    client = VoxpriaClient(url, Secret("k" * 20), get_attempts=1, clock=SystemClock())
    with pytest.raises(ApiUnavailable) as caught:
        client.get_agent("agent_demo")
    assert PASSWORD not in str(caught.value) and "dialer:" not in str(caught.value)
    assert "http://***@127.0.0.1:9/api/v1" in str(caught.value)
    assert PASSWORD not in repr(client)


@pytest.mark.parametrize("url", [f"ftp://u:{PASSWORD}@host/api", f"u:{PASSWORD}@host/api/v1"])
def test_a_malformed_base_url_is_named_without_its_password(url: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"VOXPRIA_BASE_URL": url})
    assert PASSWORD not in str(caught.value) and "***@host" in str(caught.value)


def test_shown_url_drops_userinfo_and_query() -> None:
    assert shown_url("https://u:p@h:1/api/v1?key=s#f") == "https://***@h:1/api/v1"
    assert shown_url("https://h/api/v1") == "https://h/api/v1"


def test_base_url_credentials_never_show_on_the_page(tmp_path: Path, api_key: str) -> None:
    url = f"http://dialer:{PASSWORD}@127.0.0.1:9/api/v1"
    settings = web_settings(tmp_path / "home", None, api_key, base_url=url)
    with web_server(settings) as web:
        client = signed_in(web.root_url)
        client.timeout = httpx.Timeout(60.0)
        form = client.get("/new")
    assert form.status_code == 200 and "could not be listed" in form.text
    assert PASSWORD not in form.text and "dialer:" not in form.text


# --- server paths on the page ---------------------------------------------------------------


def test_a_page_error_names_the_uploaded_file_never_its_stored_path(
    tmp_path: Path, api_key: str
) -> None:
    broken = tmp_path / "my list.csv"
    broken.write_text('Name,Phone\n"Ada,+12064513657\n' + "x" * 100 + "\n")  # a quote left open
    with web_server(web_settings(tmp_path / "home", None, api_key)) as web:
        client = signed_in(web.root_url)
        csrf = csrf_of(client.get("/new").text)
        files = {"contacts": ("my list.csv", broken.read_bytes(), "text/csv")}
        answer = client.post("/new", data={"csrf": csrf, "agent_id": "agent_demo"}, files=files)
        page = client.get(answer.headers["location"])
        home = web.settings.home
    assert page.status_code == 400, page.text
    assert str(home) not in page.text and str(home.resolve()) not in page.text
    assert "uploads" not in page.text and str(tmp_path) not in page.text


# --- uploads and drafts cleaned up ------------------------------------------------------------


def test_drafts_and_uploads_go_when_their_campaign_finishes_or_after_a_day(
    tmp_path: Path, simulator: SimulatorHandle, api_key: str
) -> None:
    home = tmp_path / "home"
    with web_server(web_settings(home, simulator, api_key)) as web:
        client = signed_in(web.root_url)
        contacts = write_messy_csv(tmp_path / "contacts.csv")

        def upload() -> str:
            csrf = csrf_of(client.get("/new").text)
            files = {"contacts": ("contacts.csv", contacts.read_bytes(), "text/csv")}
            data = {"csrf": csrf, "agent_id": "agent_demo", "window": "any"}
            return str(client.post("/new", data=data, files=files).headers["location"])

        old_plan = upload()  # never started: it goes by age
        for path in [*(home / DRAFTS_FOLDER).iterdir(), *(home / UPLOADS_FOLDER).iterdir()]:
            stale = time.time() - MAX_AGE_S - 60
            os.utime(path, (stale, stale))
        plan_url = upload()
        assert client.get(old_plan).status_code == 404  # swept at the upload
        assert client.get(plan_url).status_code == 200
        started = post_form(client, plan_url, plan_url + "/start")
        campaign_url = started.headers["location"].split("?")[0]
        assert client.get(plan_url + "/invalid").status_code == 200  # still there while it runs
        wait_until(
            lambda: client.get(campaign_url + "/progress").json()["ended"],
            timeout_s=30,
            what="the campaign to end",
        )
        listed = client.get("/campaigns")  # listing sweeps what finished campaigns left
        gone = client.get(plan_url)
    assert gone.status_code == 404
    assert "contacts.csv" in listed.text  # the list's name is kept
    assert not list((home / DRAFTS_FOLDER).iterdir())
    assert [p.suffix for p in (home / UPLOADS_FOLDER).iterdir()] == [".json"]


# --- SQLite and Redis failures --------------------------------------------------------------


def test_sqlite_and_redis_failures_become_one_message(tmp_path: Path) -> None:
    import redis

    db = sqlite3.connect(tmp_path / "x.sqlite")
    db.close()
    with pytest.raises(sqlite3.Error) as closed:
        db.execute("SELECT 1")
    with pytest.raises(redis.RedisError) as refused:
        redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1).ping()
    sqlite_failure = store_failure(closed.value)
    redis_failure = store_failure(refused.value)
    assert isinstance(sqlite_failure, StoreError) and "DIALER_HOME" in str(sqlite_failure)
    assert isinstance(redis_failure, StoreError) and "REDIS_URL" in str(redis_failure)
    assert store_failure(ValueError("x")) is None


def test_a_store_failure_on_the_page_is_a_page_that_says_what_to_do(
    tmp_path: Path, api_key: str
) -> None:
    with web_server(web_settings(tmp_path / "home", None, api_key)) as web:
        client = signed_in(web.root_url)
        web.services.store.close()  # every store call now fails, as a broken disk would
        page = client.get("/campaigns")
    assert page.status_code == 503, page.text
    assert "DIALER_HOME" in page.text and "Traceback" not in page.text
    assert "<html" in page.text


# --- the page attacked with odd requests ----------------------------------------------------

ODD_GETS = [
    "/campaigns/x?page=²",
    "/campaigns/x?page=" + "9" * 5000,
    "/campaigns/x/rows?page=١٢&status=<script>",
    "/campaigns/%00%0d%0a",
    "/campaigns/x/report.csv",
    "/plans/" + "0" * 32,
    "/plans/../../etc/passwd",
    "/plans/" + "a" * 32 + "/invalid",
    "/no/such/page",
    "/static/../../pyproject.toml",
]


def test_odd_requests_get_a_page_that_says_what_to_do_never_a_500(
    tmp_path: Path, api_key: str
) -> None:
    with web_server(web_settings(tmp_path / "home", None, api_key)) as web:
        client = signed_in(web.root_url)
        answers = {path: client.get(path) for path in ODD_GETS}
        answers["PUT /new"] = client.put("/new", content=b"x")
        csrf = csrf_of(client.get("/new").text)
        contacts = write_messy_csv(tmp_path / "contacts.csv")
        for field in ("max_active", "redial_busy", "window", "redial_after", "rate"):
            files = {"contacts": ("c.csv", contacts.read_bytes(), "text/csv")}
            data = {"csrf": csrf, "agent_id": "agent_demo", field: "²"}
            answers[f"POST /new {field}=²"] = client.post("/new", data=data, files=files)
    for what, answer in answers.items():
        assert 400 <= answer.status_code < 500, (what, answer.status_code, answer.text[:300])
        said = "<html" in answer.text or "error" in answer.json()  # a page, or JSON for scripts
        assert said and "Traceback" not in answer.text, what
        assert "root:" not in answer.text, what
