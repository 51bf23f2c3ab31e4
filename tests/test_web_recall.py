"""The recall guard on the page: a list run from the command line, then the same list re-saved
and uploaded on the page. The plan says, before Start, how many of its numbers were called
lately and by which campaign; Start calls none of them again (the simulator's audit, over real
HTTP, is the ground truth). The Recall guard field changes it, and a wrong value is answered
with a page that says what to write.
"""

from __future__ import annotations

import html
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from campaigns.store.history import DEFAULT_RECALL_AFTER_S, DialGuard
from campaigns.store.rows import CampaignMeta, NewRow, RowStatus
from dialer.simulator.server import SimulatorHandle
from tests.cli_support import dialer_env, run_dialer, wait_until
from tests.cluster_support import cluster_url, own_database
from tests.web_support import (
    SPEED,
    WebServer,
    csrf_of,
    post_form,
    signed_in,
    web_server,
    web_settings,
)

pytestmark = pytest.mark.integration

NUMBERS = [f"+1415555{i:04d}" for i in range(20)]
_CAMPAIGN = re.compile(r"Starting campaign (contacts-[0-9a-z]+)")
_RECENT = re.compile(r"<section class=\"card\" data-recent-calls>(.*?)</section>", re.S)


@pytest.fixture
def sim(start_sim: Callable[..., SimulatorHandle]) -> SimulatorHandle:
    return start_sim(speed=SPEED)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def web(home: Path, sim: SimulatorHandle, api_key: str) -> Iterator[WebServer]:
    with web_server(web_settings(home, sim, api_key)) as server:
        yield server


def _write(path: Path, final_newline: bool = False) -> Path:
    lines = ["name,phone"] + [f"Person {i},{n}" for i, n in enumerate(NUMBERS)]
    path.write_text("\n".join(lines) + ("\n" if final_newline else ""), encoding="utf-8")
    return path


def _upload(client: httpx.Client, path: Path, name: str, **fields: str) -> httpx.Response:
    csrf = csrf_of(client.get("/new").text)
    data = {"csrf": csrf, "agent_id": "agent_demo", "window": "any", **fields}
    return client.post("/new", data=data, files={"contacts": (name, path.read_bytes())})


def _recent_section(plan_html: str) -> str:
    match = _RECENT.search(plan_html)
    assert match, "the plan has no recall guard section"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


def _calls(sim: SimulatorHandle) -> Counter[str]:
    return Counter(e.to_number for e in sim.sim.audit())


def _start_and_wait(client: httpx.Client, plan_url: str) -> dict[str, int]:
    started = post_form(client, plan_url, plan_url + "/start")
    assert started.status_code == 303, started.text
    campaign_url = started.headers["location"].split("?")[0]
    wait_until(
        lambda: client.get(campaign_url + "/progress").json()["ended"],
        timeout_s=30,
        what="the campaign to end",
    )
    progress = client.get(campaign_url + "/progress").json()
    return {k: int(v) for k, v in progress["counts"].items()}


def _cli_run(tmp_path: Path, home: Path, sim: SimulatorHandle, api_key: str) -> str:
    """The list run from the command line, in the page's state folder: its campaign id."""
    contacts = _write(tmp_path / "contacts.csv")
    env = dialer_env(home, base_url=sim.base_url, api_key=api_key)
    report = str(tmp_path / "contacts.out.csv")
    args = ["run", str(contacts), "--agent", "agent_demo", "--window", "any", "--report", report]
    done = run_dialer(args, env)
    assert done.returncode == 0, done.output
    assert _calls(sim) == dict.fromkeys(NUMBERS, 1)
    campaign = _CAMPAIGN.search(done.output)
    assert campaign, done.output
    return campaign.group(1)


def test_a_list_run_from_the_cli_then_re_saved_on_the_page_calls_nobody_twice(
    tmp_path: Path, home: Path, sim: SimulatorHandle, api_key: str
) -> None:
    cli_campaign = _cli_run(tmp_path, home, sim, api_key)
    with web_server(web_settings(home, sim, api_key)) as web:
        client = signed_in(web.root_url)
        resaved = _write(tmp_path / "resaved.csv", final_newline=True)  # one byte more
        plan_url = _upload(client, resaved, "contacts (1).csv").headers["location"]
        plan = client.get(plan_url)
        assert plan.status_code == 200, plan.text
        recent = _recent_section(plan.text)
        assert "20 of the 20 ready numbers were called in the last 20h 00m" in recent, recent
        assert f"{cli_campaign} 20" in recent, recent
        assert "suppressed" in recent
        campaign_id = re.search(r"Campaign id <code>([^<]+)</code>", plan.text)
        assert campaign_id and campaign_id.group(1) != cli_campaign  # a new campaign

        counts = _start_and_wait(client, plan_url)
    assert counts.get("suppressed") == 20, counts
    assert _calls(sim) == dict.fromkeys(NUMBERS, 1)  # nobody phoned twice


def test_recall_guard_zero_is_said_on_the_plan_and_carried_into_the_run(
    tmp_path: Path, home: Path, sim: SimulatorHandle, api_key: str
) -> None:
    _cli_run(tmp_path, home, sim, api_key)
    with web_server(web_settings(home, sim, api_key)) as web:
        client = signed_in(web.root_url)
        resaved = _write(tmp_path / "resaved.csv", final_newline=True)
        answer = _upload(client, resaved, "again.csv", recall_after="0")
        plan_url = answer.headers["location"]
        recent = _recent_section(client.get(plan_url).text)
        assert "recall guard is off" in recent, recent
        counts = _start_and_wait(client, plan_url)
    assert counts.get("suppressed", 0) == 0, counts
    assert _calls(sim) == dict.fromkeys(NUMBERS, 2)  # asked for, and said before Start


def test_a_short_recall_guard_lets_an_old_call_through(
    tmp_path: Path, home: Path, sim: SimulatorHandle, api_key: str
) -> None:
    """`1s` is carried as 1 s: by the time the plan reads the history, the calls are older."""
    _cli_run(tmp_path, home, sim, api_key)
    with web_server(web_settings(home, sim, api_key)) as web:
        client = signed_in(web.root_url)
        wait_until(
            lambda: not web.services.store.recent_calls(NUMBERS, time.time() - 1.0),
            timeout_s=10,
            what="the calls to be older than 1 s",
        )
        resaved = _write(tmp_path / "resaved.csv", final_newline=True)
        plan_url = _upload(client, resaved, "short.csv", recall_after="1s").headers["location"]
        recent = _recent_section(client.get(plan_url).text)
    assert "No ready number of this list was called in the last 1s" in recent, recent


def test_a_fresh_list_says_nobody_was_called(web: WebServer, tmp_path: Path) -> None:
    client = signed_in(web.root_url)
    plan_url = _upload(client, _write(tmp_path / "new.csv"), "new.csv").headers["location"]
    recent = _recent_section(client.get(plan_url).text)
    assert "No ready number of this list was called in the last 20h 00m" in recent, recent


@pytest.mark.parametrize("bad", ["soon", "-1h", "inf", "nan", "9999d", "20 parsecs", "<b>x</b>"])
def test_a_wrong_recall_guard_gets_a_page_that_says_what_to_write(
    web: WebServer, tmp_path: Path, bad: str
) -> None:
    client = signed_in(web.root_url)
    answer = _upload(client, _write(tmp_path / "list.csv"), "list.csv", recall_after=bad)
    assert answer.status_code == 400, answer.text
    text = html.unescape(answer.text)
    assert f"Recall guard {bad!r}" in text
    assert "like 20h, 90m or 1d" in text and "or 0 to turn the guard off" in text
    assert "<b>x</b>" not in answer.text  # shown as text, never as markup
    assert "Traceback" not in answer.text
    assert not list((web.settings.home / "drafts").glob("*.json"))  # no draft made


def test_cluster_mode_the_plan_reads_the_history_in_redis(
    tmp_path: Path, sim: SimulatorHandle, api_key: str
) -> None:
    """The plan's child opens the cluster's Redis (the page's store) itself."""
    with own_database():
        settings = web_settings(tmp_path / "home", sim, api_key, redis_url=cluster_url())
        with web_server(settings) as web:
            store = web.services.store
            rows = [NewRow(i, [n], n, RowStatus.PENDING) for i, n in enumerate(NUMBERS[:7])]
            meta = CampaignMeta("contacts-earlier", "agent_demo", "l.csv", ["phone"], {})
            assert store.create_campaign(meta, rows)
            guard = DialGuard(DEFAULT_RECALL_AFTER_S, "contacts-earlier", "agent_demo")
            for row in store.claim("contacts-earlier", "w1", time.time(), 30, limit=100):
                assert store.begin_dial("contacts-earlier", row.idx, "w1", time.time(), 30,
                                        100, guard) is not None  # fmt: skip
            client = signed_in(web.root_url)
            plan_url = _upload(client, _write(tmp_path / "list.csv"), "list.csv").headers[
                "location"
            ]
            recent = _recent_section(client.get(plan_url).text)
    assert "7 of the 20 ready numbers were called in the last 20h 00m" in recent, recent
    assert "contacts-earlier 7" in recent, recent
