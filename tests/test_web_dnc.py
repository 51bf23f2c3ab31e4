"""The Do not call page over plain HTTP (httpx against `dialer serve`'s app in a thread, through
the gate): list, search, add, remove and import numbers read as `dialer dnc` reads them; bad
input answered on the page with what to do; forged and oversized posts refused; and a number
added on the page refused at dial time by the store the page wrote to."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from campaigns.store.dnc import DncEntry
from campaigns.store.history import DialGuard
from campaigns.store.rows import CampaignMeta, NewRow, RowStatus
from dialer.web.dnc_pages import SHOWN_ENTRIES
from tests.web_support import (
    SCRIPT_NAME,
    WebServer,
    csrf_of,
    post_form,
    signed_in,
    web_server,
    web_settings,
)

pytestmark = pytest.mark.integration

EVIL_ORIGIN = "https://evil.example"


@pytest.fixture
def web(tmp_path: Path, api_key: str) -> Iterator[WebServer]:
    settings = web_settings(tmp_path / "home", None, api_key, ui_max_upload_mb=0.1)
    with web_server(settings) as server:
        yield server


@pytest.fixture
def client(web: WebServer) -> httpx.Client:
    return signed_in(web.root_url)


def _import(client: httpx.Client, name: str, content: bytes, **fields: str) -> httpx.Response:
    csrf = csrf_of(client.get("/dnc").text)
    data = {"csrf": csrf, "region": "US", **fields}
    origin = str(client.base_url).rstrip("/")
    files = {"file": (name, content, "text/csv")}
    return client.post("/dnc/import", data=data, files=files, headers={"Origin": origin})


def _rows(client: httpx.Client, query: str = "") -> list[str]:
    """The numbers the page shows, in its order."""
    html = client.get("/dnc", params={"q": query} if query else None).text
    return re.findall(r'<tr data-number="([^"]+)"', html)


def _listed(web: WebServer) -> set[str]:
    return {e.number for e in web.services.store.dnc_entries()}


def test_the_page_adds_searches_and_removes_numbers_and_the_menu_links_to_it(
    web: WebServer, client: httpx.Client
) -> None:
    assert 'href="/dnc"' in client.get("/campaigns").text
    empty = client.get("/dnc")
    assert empty.status_code == 200 and "The list is empty" in empty.text
    added = post_form(client, "/dnc", "/dnc/add", number="(415) 555-0123", reason="opted out")
    assert added.status_code == 303 and added.headers["location"].startswith("/dnc?done=added")
    page = client.get(added.headers["location"])
    assert "+14155550123 is on the do-not-call list" in page.text
    assert "+14155550123" in page.text and "opted out" in page.text and " UTC" in page.text
    again = post_form(client, "/dnc", "/dnc/add", number="+1 415 555 0123", reason="later")
    assert "was already on the list" in client.get(again.headers["location"]).text
    assert web.services.store.dnc_get("+14155550123") is not None
    assert web.services.store.dnc_get("+14155550123").reason == "opted out"  # type: ignore[union-attr]
    post_form(client, "/dnc", "/dnc/add", number="+442079460429", reason=SCRIPT_NAME)
    shown = client.get("/dnc").text
    assert SCRIPT_NAME not in shown and "&lt;script&gt;" in shown  # a reason is text
    assert _rows(client) == ["+442079460429", "+14155550123"]  # newest first
    assert _rows(client, "7946") == ["+442079460429"]
    assert _rows(client, "415-555-0123") == ["+14155550123"]  # read as a number
    assert "No number on the list matches" in client.get("/dnc", params={"q": "999"}).text
    removed = post_form(client, "/dnc", "/dnc/remove", number="+14155550123")
    assert "is off the do-not-call list" in client.get(removed.headers["location"]).text
    assert _listed(web) == {"+442079460429"}
    missing = post_form(client, "/dnc", "/dnc/remove", number="+14155550123")
    assert "was not on the do-not-call list" in client.get(missing.headers["location"]).text


def test_a_number_added_on_the_page_is_refused_at_dial_time(
    web: WebServer, client: httpx.Client
) -> None:
    store = web.services.store
    number = "+14155550199"
    row = NewRow(idx=0, cells=[number], to_number=number, status=RowStatus.PENDING)
    assert store.create_campaign(CampaignMeta("c1", "agent_1", "l.csv", ["phone"], {}), [row])
    (claimed,) = store.claim("c1", "w1", 1_800_000_000.0, 30, limit=10)
    added = post_form(client, "/dnc", "/dnc/add", number="415 555 0199", reason="opted out")
    assert added.status_code == 303
    guard = DialGuard(0, "c1", "agent_1")
    refused = store.begin_dial("c1", claimed.idx, "w1", 1_800_000_000.0, 30, 100, guard)
    assert refused is not None and refused.status is RowStatus.SUPPRESSED
    assert refused.error.startswith("on the do-not-call list since ")
    assert refused.error.endswith("(opted out)")


def test_a_file_is_imported_as_dialer_dnc_import_reads_it(
    web: WebServer, client: httpx.Client
) -> None:
    table = b"name,phone\nAda,(415) 555-0101\nBob,not a number\nCy,+442079460429\n"
    answer = _import(client, "optouts.csv", table, reason="opted out")
    assert answer.status_code == 303, answer.text
    assert "2 added from the file (2 numbers read)." in client.get(answer.headers["location"]).text
    plain = b"020 7946 0430\n020 7946 0429\n"  # one per line, national numbers of the Region
    answer = _import(client, "list.txt", plain, region="GB")
    text = client.get(answer.headers["location"]).text
    assert "1 added from the file (2 numbers read; 1 already on the list)." in text
    assert _listed(web) == {"+14155550101", "+442079460429", "+442079460430"}
    assert web.services.store.dnc_get("+14155550101").reason == "opted out"  # type: ignore[union-attr]
    assert not list((web.settings.home / "uploads").glob("*.csv"))  # the upload is not kept


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"number": "555-01"}, "is not a phone number (too short"),
        ({"number": "hello"}, "is not a phone number"),
        ({"number": ""}, "Type the number to add"),
        ({"number": "415 555 0123", "region": "ZZ"}, "'ZZ' is not a region code"),
        ({"number": "9" * 5000}, "is not a phone number"),
    ],
)
def test_a_bad_number_is_answered_on_the_page_with_what_to_do(
    web: WebServer, client: httpx.Client, fields: dict[str, str], says: str
) -> None:
    answer = post_form(client, "/dnc", "/dnc/add", **{"region": "US", **fields})
    assert answer.status_code == 400, answer.text
    assert says in html.unescape(answer.text)
    assert 'action="/dnc/add"' in answer.text  # the form again, to fix it
    assert _listed(web) == set()


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("t.csv", b"name,email\nAda,a@x.example\n", "none is named like a phone column"),
        ("t.csv", b"nothing here\nor here\n", "No phone number found in t.csv"),
        ("t.csv", b"", "No phone number found in t.csv"),
        ("t.xlsx", b"PK\x03\x04 not really a workbook", "t.xlsx"),
        ("t.csv", b"\xff\xfe\x00\x00garbage\x00\x01", "t.csv"),
    ],
)
def test_a_bad_file_is_answered_on_the_page_without_server_paths(
    web: WebServer, client: httpx.Client, name: str, content: bytes, says: str
) -> None:
    answer = _import(client, name, content)
    assert answer.status_code == 400, answer.text
    assert says in html.unescape(answer.text)
    assert str(web.settings.home) not in answer.text and "uploads" not in answer.text
    assert _listed(web) == set()


def test_an_import_without_a_file_or_region_says_what_to_do(client: httpx.Client) -> None:
    csrf = csrf_of(client.get("/dnc").text)
    origin = str(client.base_url).rstrip("/")
    files = {"file": ("", b"", "application/octet-stream")}
    none = client.post("/dnc/import", data={"csrf": csrf}, files=files, headers={"Origin": origin})
    assert none.status_code == 400 and "Choose a file to import" in none.text
    bad_region = _import(client, "t.csv", b"+14155550123\n", region="Mars")
    assert bad_region.status_code == 400 and "is not a region code" in bad_region.text


def test_a_file_over_the_upload_cap_is_refused_with_413(
    web: WebServer, client: httpx.Client
) -> None:
    huge = b"+14155550123\n" * 20_000  # 260 kB against a 0.1 MB cap
    answer = _import(client, "huge.csv", huge)
    assert answer.status_code == 413
    assert "larger than 0.1 MB" in answer.text and 'href="/dnc"' in answer.text
    assert _listed(web) == set()


def test_forged_posts_are_refused_and_change_nothing(web: WebServer, client: httpx.Client) -> None:
    csrf = csrf_of(client.get("/dnc").text)
    no_token = client.post("/dnc/add", data={"number": "+14155550123"})
    stale = client.post("/dnc/add", data={"number": "+14155550123", "csrf": csrf[:-4] + "AAAA"})
    other_site = client.post(
        "/dnc/add",
        data={"number": "+14155550123", "csrf": csrf},
        headers={"Origin": EVIL_ORIGIN},
    )
    stranger = httpx.post(web.root_url + "/dnc/add", data={"number": "+14155550123"})
    assert [a.status_code for a in (no_token, stale, other_site, stranger)] == [403] * 4
    web.services.store.dnc_add([DncEntry("+14155550124", "", 1_800_000_000.0)])
    removal = client.post("/dnc/remove", data={"number": "+14155550124"})
    assert removal.status_code == 403
    assert _listed(web) == {"+14155550124"}
    signed_out = httpx.get(web.root_url + "/dnc")
    assert signed_out.status_code == 303 and signed_out.headers["location"] == "/login?next=/dnc"


def test_a_long_list_shows_the_newest_and_a_search_finds_any(
    web: WebServer, client: httpx.Client
) -> None:
    n = SHOWN_ENTRIES + 50
    entries = [DncEntry(f"+1212555{i:04d}", "", 1_800_000_000.0 + i) for i in range(n)]
    web.services.store.dnc_add(entries)
    page = client.get("/dnc").text
    assert f"{n:,} numbers on the list" in page and "search by number for others" in page
    shown = _rows(client)
    assert len(shown) == SHOWN_ENTRIES and shown[0] == f"+1212555{n - 1:04d}"  # newest first
    assert "+12125550000" not in shown
    assert _rows(client, "+12125550000") == ["+12125550000"]
