"""The web page over plain HTTP (httpx against `dialer serve`'s app, served by uvicorn in a
thread; the simulator over real HTTP behind it): what keeps it safe by default.

Off without a token; a wrong token signs nobody in; a cookie a script cannot read and another
site cannot send; forms refused from another site or without their token; uploads capped and
stored under generated names; a contact's `<script>` shown as text; the API key in no answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import openpyxl
import pytest

from dialer.receiver import WEBHOOK_PATH
from dialer.settings import Secret
from dialer.simulator.server import SimulatorHandle
from dialer.voxpria.signatures import HEADER_A, sign_a
from dialer.web.gate import CONTENT_SECURITY_POLICY
from tests.cli_support import wait_until
from tests.test_webhooks_support import call_event
from tests.web_support import (
    FORCED,
    HEADER,
    MESSY,
    SCRIPT_NAME,
    SPEED,
    TOKEN,
    WEBHOOK_SECRET,
    WebServer,
    csrf_of,
    expected_counts,
    post_form,
    signed_in,
    web_server,
    web_settings,
    write_messy_csv,
)

pytestmark = pytest.mark.integration

EVIL_ORIGIN = "https://evil.example"


@pytest.fixture
def sim(start_sim: Callable[..., SimulatorHandle]) -> SimulatorHandle:
    return start_sim(speed=SPEED, outcome_by_number=lambda number: FORCED.get(number, "completed"))


@pytest.fixture
def web(tmp_path: Path, sim: SimulatorHandle, api_key: str) -> Iterator[WebServer]:
    with web_server(web_settings(tmp_path / "home", sim, api_key)) as server:
        yield server


def upload(client: httpx.Client, path: Path, name: str, **fields: str) -> httpx.Response:
    """The new-campaign form, posted as the page posts it."""
    csrf = csrf_of(client.get("/new").text)
    data = {"csrf": csrf, "agent_id": "agent_demo", "window": "any", **fields}
    files = {"contacts": (name, path.read_bytes(), "text/csv")}
    return client.post("/new", data=data, files=files)


# --- on and off ---------------------------------------------------------------------------


def test_without_a_token_the_page_is_off_says_how_and_the_receiver_still_works(
    tmp_path: Path, api_key: str
) -> None:
    settings = web_settings(tmp_path / "home", None, api_key, ui_token=Secret(""))
    with web_server(settings) as web:
        home = httpx.get(web.root_url + "/")
        other = httpx.get(web.root_url + "/campaigns")
        body = json.dumps(call_event("call.completed", "call_unknown")).encode()
        headers = {HEADER_A: sign_a(Secret(WEBHOOK_SECRET), body)}
        delivery = httpx.post(web.root_url + WEBHOOK_PATH, content=body, headers=headers)
    assert home.status_code == 200 and "DIALER_UI_TOKEN" in home.text
    assert "restart" in home.text and "<form" not in home.text
    assert other.status_code == 404 and "DIALER_UI_TOKEN" in other.text
    assert delivery.status_code == 200, delivery.text  # an unknown call: acknowledged


def test_without_a_secret_the_receiver_answers_503_and_the_page_works(
    tmp_path: Path, sim: SimulatorHandle, api_key: str
) -> None:
    settings = web_settings(tmp_path / "home", sim, api_key, webhook_secret=Secret(""))
    with web_server(settings) as web:
        delivery = httpx.post(web.root_url + WEBHOOK_PATH, content=b"{}")
        page = signed_in(web.root_url).get("/campaigns")
    assert delivery.status_code == 503 and "VOXPRIA_WEBHOOK_SECRET" in delivery.text
    assert page.status_code == 200 and "No campaign yet" in page.text


# --- signing in ---------------------------------------------------------------------------


def test_a_wrong_token_is_refused_and_signs_nobody_in(web: WebServer) -> None:
    client = httpx.Client(base_url=web.root_url)
    first = client.get("/campaigns")
    assert first.status_code == 303 and first.headers["location"].startswith("/login")
    form = client.get("/login")
    wrong = client.post("/login", data={"csrf": csrf_of(form.text), "token": TOKEN + "x"})
    assert wrong.status_code == 401 and "not the token" in wrong.text
    assert client.get("/campaigns").status_code == 303  # still signed out
    assert TOKEN not in wrong.text


def test_the_cookie_is_httponly_and_strict_and_every_page_has_a_csp(web: WebServer) -> None:
    answer = httpx.get(web.root_url + "/login")
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["cache-control"] == "no-store"


# --- cross-site requests ------------------------------------------------------------------


@pytest.mark.parametrize(
    "forgery",
    ["another origin", "another site", "no token", "a wrong token"],
)
def test_a_forged_cross_site_form_post_is_refused(
    web: WebServer, tmp_path: Path, forgery: str
) -> None:
    client = signed_in(web.root_url)
    csrf = csrf_of(client.get("/new").text)
    data = {"csrf": csrf, "agent_id": "agent_demo", "window": "any"}
    headers: dict[str, str] = {}
    if forgery == "another origin":
        headers["Origin"] = EVIL_ORIGIN
    elif forgery == "another site":
        headers["Sec-Fetch-Site"] = "cross-site"
    elif forgery == "no token":
        del data["csrf"]
    else:
        data["csrf"] = csrf[:-4] + "AAAA"
    contacts = write_messy_csv(tmp_path / "contacts.csv")
    files = {"contacts": ("contacts.csv", contacts.read_bytes(), "text/csv")}
    answer = client.post("/new", data=data, files=files, headers=headers)
    assert answer.status_code == 403, answer.text
    assert "Not allowed" in answer.text
    assert not (web.settings.home / "uploads").exists()  # nothing stored
    assert not (web.settings.home / "drafts").exists()


def test_stop_from_another_site_is_refused(web: WebServer) -> None:
    client = signed_in(web.root_url)
    answer = client.post(
        "/campaigns/any-campaign/stop",
        data={"csrf": csrf_of(client.get("/new").text)},
        headers={"Origin": EVIL_ORIGIN},
    )
    assert answer.status_code == 403


# --- uploads --------------------------------------------------------------------------------


def test_an_oversized_upload_is_refused_with_413_and_says_what_to_do(
    tmp_path: Path, sim: SimulatorHandle, api_key: str
) -> None:
    big = tmp_path / "big.csv"
    big.write_text("Name,Phone\n" + "Someone,+12064513657\n" * 12_000)  # about 250 KB
    settings = web_settings(tmp_path / "home", sim, api_key, ui_max_upload_mb=0.1)
    with web_server(settings) as web:
        client = signed_in(web.root_url)
        declared = upload(client, big, "big.csv")
        csrf = csrf_of(client.get("/new").text)
        chunked = client.post(  # no Content-Length: the cap counts what arrives
            "/new",
            content=_chunked_form(csrf, big.read_bytes()),
            headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        )
    for answer in (declared, chunked):
        assert answer.status_code == 413, answer.text
        assert "0.1 MB" in answer.text and "DIALER_UI_MAX_UPLOAD_MB" in answer.text
    assert not list((tmp_path / "home").glob("uploads/*"))


BOUNDARY = "dialer-test-boundary"


def _chunked_form(csrf: str, content: bytes) -> Iterator[bytes]:
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="contacts"; '
        'filename="big.csv"\r\nContent-Type: text/csv\r\n\r\n'
    ).encode()
    for start in range(0, len(content), 16_384):
        yield content[start : start + 16_384]
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def test_a_file_name_with_dot_dot_is_stored_under_a_generated_name_inside_uploads(
    web: WebServer, tmp_path: Path
) -> None:
    contacts = write_messy_csv(tmp_path / "contacts.csv")
    client = signed_in(web.root_url)
    hostile = "../../../escaped/contacts.csv"
    answer = upload(client, contacts, hostile)
    assert answer.status_code == 303, answer.text
    uploads = web.settings.home / "uploads"
    stored = sorted(p.name for p in uploads.iterdir())
    assert len(stored) == 2 and all(re.fullmatch(r"[0-9a-f]{32}\.(csv|json)", n) for n in stored)
    assert not list(tmp_path.rglob("escaped"))  # nothing written outside uploads/
    csv_file = next(uploads.glob("*.csv"))
    assert csv_file.read_bytes() == contacts.read_bytes()
    meta = json.loads(next(uploads.glob("*.json")).read_text())
    assert meta["display_name"] == hostile  # kept as data, shown escaped
    plan = client.get(answer.headers["location"])
    assert plan.status_code == 200 and "../../../escaped/contacts.csv" in plan.text
    assert "contacts-" in plan.text  # the campaign is named after the file, not the path


def test_an_xlsx_list_is_planned_like_its_csv(web: WebServer, tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in [HEADER, *(cells for cells, _ in MESSY)]:
        sheet.append(row)
    path = tmp_path / "contacts.xlsx"
    workbook.save(path)
    client = signed_in(web.root_url)
    answer = client.post(
        "/new",
        data={"csrf": csrf_of(client.get("/new").text), "agent_id": "agent_demo"},
        files={"contacts": ("contacts.xlsx", path.read_bytes(), "application/octet-stream")},
    )
    assert answer.status_code == 303, answer.text
    assert len(list((web.settings.home / "uploads").glob("*.xlsx"))) == 1
    plan = client.get(answer.headers["location"]).text
    for status, count in expected_counts().items():
        assert re.search(rf'tile-n">{count}</span><span class="tile-l">{status}<', plan), status


def test_the_plan_page_says_one_row_and_one_call(web: WebServer, tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("Name,Phone\nAnn,+1 415 555 0100\n", "utf-8")
    client = signed_in(web.root_url)
    plan = client.get(upload(client, path, "one.csv").headers["location"]).text
    assert re.search(r"\b1 row read\b", plan) and "1 rows" not in plan, plan
    assert re.search(r"for\s+1 call\.", plan) and "1 calls" not in plan, plan


# --- a whole campaign: escaping, and the key in no answer ----------------------------------


def test_a_script_in_a_contact_shows_as_text_and_the_key_is_in_no_answer(
    web: WebServer, tmp_path: Path, api_key: str
) -> None:
    client = signed_in(web.root_url)
    answers = recorded(client)
    contacts = write_messy_csv(tmp_path / "contacts.csv")
    plan_url = upload(client, contacts, "contacts.csv").headers["location"]
    plan = client.get(plan_url)
    started = post_form(client, plan_url, plan_url + "/start")
    assert started.status_code == 303, started.text
    campaign_url = started.headers["location"].split("?")[0]
    wait_until(
        lambda: client.get(campaign_url + "/progress").json()["ended"],
        timeout_s=20,
        what="the campaign to end",
    )
    campaign = client.get(campaign_url)
    for page in (plan, campaign, client.get(plan_url + "/invalid")):
        assert page.status_code == 200
        assert SCRIPT_NAME not in page.text and "<img src=x" not in page.text
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert escaped in plan.text and escaped in campaign.text
    client.get(campaign_url + "/report.xlsx")
    client.get(campaign_url + "/report.csv")
    client.get("/campaigns")
    _assert_key_absent(answers, api_key)


def test_the_key_is_in_no_answer_when_the_api_refuses_it(
    tmp_path: Path, sim: SimulatorHandle
) -> None:
    wrong_key = "agl_sk_wrong_key_that_the_simulator_refuses"
    with web_server(web_settings(tmp_path / "home", sim, wrong_key)) as web:
        client = signed_in(web.root_url)
        answers = recorded(client)
        form = client.get("/new")
        contacts = write_messy_csv(tmp_path / "contacts.csv")
        plan_url = upload(client, contacts, "contacts.csv").headers["location"]
        refused = post_form(client, plan_url, plan_url + "/start")
    assert "could not be listed" in form.text
    assert refused.status_code == 502 and "Not started" in refused.text
    _assert_key_absent(answers, wrong_key)


def recorded(client: httpx.Client) -> list[httpx.Response]:
    """Every answer the client gets from now on, read whole."""
    answers: list[httpx.Response] = []

    def keep(answer: httpx.Response) -> None:
        answer.read()
        answers.append(answer)

    client.event_hooks["response"] = [keep]
    return answers


def _assert_key_absent(answers: list[httpx.Response], key: str) -> None:
    assert len(answers) >= 5
    for answer in answers:
        where = f"{answer.request.method} {answer.request.url.path}"
        assert key not in answer.content.decode("utf-8", "replace"), where
        assert all(key not in value for value in answer.headers.values()), where
