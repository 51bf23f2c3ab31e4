"""The Schedules page over HTTP (`dialer serve`'s app with a campaign file, the simulator over
real HTTP): what it lists, the export, starting today's run, and the gate's rules."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from campaigns.schedule.cron import CronSchedule
from dialer.errors import InputError
from dialer.settings import Secret
from dialer.simulator.server import SimulatorHandle, running_simulator
from tests.cli_support import dialer_env, run_dialer, wait_until
from tests.schedule_web_support import (
    FIRST_DAY,
    SECOND_DAY,
    Scheduled,
    schedule_folder,
    store_past_runs,
    today_in,
)
from tests.web_support import SPEED, WebServer, post_form, signed_in, web_server, web_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def sim(api_key: str) -> Iterator[SimulatorHandle]:
    with running_simulator(
        api_key=Secret(api_key), speed=SPEED, call_limit=None, request_limit=None
    ) as handle:
        yield handle


@pytest.fixture
def scheduled(tmp_path: Path) -> Scheduled:
    return schedule_folder(tmp_path / "files <b>bold</b>")


@pytest.fixture
def web(
    tmp_path: Path, sim: SimulatorHandle, api_key: str, scheduled: Scheduled
) -> Iterator[WebServer]:
    settings = web_settings(tmp_path / "home", sim, api_key, schedule_file=scheduled.file)
    with web_server(settings) as server:
        store_past_runs(server.services.store, scheduled)
        yield server


def test_the_page_lists_campaigns_next_and_past_runs(web: WebServer, scheduled: Scheduled) -> None:
    client = signed_in(web.root_url)
    page = client.get("/schedules")
    assert page.status_code == 200
    html = page.text
    assert "files &lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold</b>" not in html  # escaped
    assert "At 08:30 AM" in html and "on the first Monday of the month" in html  # in words
    assert html.count(" UTC</td>") == 10  # five next runs of each campaign, local and UTC
    assert " EST</td>" in html or " EDT</td>" in html
    for cid in scheduled.past_ids:
        assert f'href="/campaigns/{cid}"' in html
    reminders, surveys = _section(html, "reminders"), _section(html, "surveys")
    assert "<code>agent_demo</code>" in reminders and "America/New_York" in reminders
    assert "Europe/London" in surveys and "09:00-17:00" in surveys
    # the past runs' counts, as the stored runs ended (FIRST_DAY, SECOND_DAY)
    assert "completed 2</span>" in reminders and "busy 1</span>" in reminders
    assert "no_answer 1</span>" in reminders and "completed 1</span>" in reminders
    assert "No run in the last two weeks." in surveys
    assert "no beat: embedded mode" in html
    surveys_today = CronSchedule.parse("0 9 * * MON#1", "Europe/London").run_on(
        today_in("Europe/London")
    )
    # a button for today's run where the schedule has one (surveys: first Mondays only)
    assert html.count("Start today's run now") == 1 + (surveys_today is not None)
    assert 'href="/schedules"' in client.get("/campaigns").text  # in the menu


def _section(html: str, name: str) -> str:
    """One campaign's card of the page."""
    start = html.index(f'data-schedule="{name}"')
    end = html.find("</section>", start)
    return html[start:end]


def test_the_export_holds_both_days_rows(web: WebServer, scheduled: Scheduled) -> None:
    client = signed_in(web.root_url)
    first, second = scheduled.past_days
    answer = client.get(
        "/schedules/reminders/export",
        params={"since": first.isoformat(), "until": second.isoformat(), "format": "csv"},
    )
    assert answer.status_code == 200, answer.text
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert [r["run_date"] for r in rows] == [first.isoformat()] * 3 + [second.isoformat()] * 2
    assert tuple(r["status"] for r in rows) == FIRST_DAY + SECOND_DAY


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"since": "yesterday"}, "&#39;From&#39; must be a date"),
        ({"since": "2026-01-02", "until": "2026-01-01"}, "before"),
        ({"since": "2020-01-01", "until": "2026-01-01"}, "at most 366 days"),
        ({"since": "2026-01-01", "format": "pdf"}, "CSV or XLSX"),
        ({"since": "2020-01-01"}, "has no run from 2020-01-01"),
    ],
)
def test_a_bad_export_form_says_what_to_do(
    web: WebServer, params: dict[str, str], fragment: str
) -> None:
    answer = signed_in(web.root_url).get("/schedules/reminders/export", params=params)
    assert answer.status_code == 400 and fragment in answer.text, answer.text
    unknown = signed_in(web.root_url).get("/schedules/nope/export", params={"since": "2026-01-01"})
    assert unknown.status_code == 400 and "its campaigns are reminders, surveys" in unknown.text


def test_start_today_runs_once_and_the_button_goes(web: WebServer, scheduled: Scheduled) -> None:
    client = signed_in(web.root_url)
    cid = f"reminders-{scheduled.today.isoformat()}"
    origin = web.root_url.rstrip("/")
    forged = client.post(
        "/schedules/reminders/start", data={"csrf": "guessed"}, headers={"Origin": origin}
    )
    assert forged.status_code == 403  # no CSRF token
    assert web.services.store.get_campaign(cid) is None
    started = post_form(client, "/schedules", "/schedules/reminders/start")
    assert started.status_code == 303 and started.headers["location"].startswith(
        f"/campaigns/{cid}"
    )
    wait_until(
        lambda: str(getattr(web.services.store.get_campaign(cid), "state", "")) == "finished",
        timeout_s=30,
        what="today's run to finish",
    )
    html = client.get("/schedules").text
    assert f'href="/campaigns/{cid}"' in html and "has started" in html
    again = post_form(client, "/schedules", "/schedules/surveys/start")
    assert again.status_code == 400  # the first Monday only, or no list: said in words
    assert "surveys" in again.text


def test_signed_out_people_are_sent_to_sign_in(web: WebServer) -> None:
    anonymous = httpx.Client(base_url=web.root_url, timeout=10.0)
    page = anonymous.get("/schedules")
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/schedules"
    export = anonymous.get("/schedules/reminders/export?since=2026-01-01")
    assert export.status_code == 303


def test_a_bad_schedule_file_stops_serve_with_its_message(tmp_path: Path, api_key: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[campaigns.a]\nschedule = "0 9 * * 5L"\n', encoding="utf-8")
    settings = replace(web_settings(tmp_path / "home", None, api_key), schedule_file=bad)
    with pytest.raises(InputError, match="campaign 'a'"), web_server(settings):
        pass


def test_dialer_serve_refuses_a_bad_schedule_or_no_page(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[campaigns.m]\nschedule = "0 9 * * 5L"\ntimezone = "UTC"\nagent = "a"\n'
        'contacts = "x.csv"\n',
        encoding="utf-8",
    )
    env = dialer_env(tmp_path / "home", DIALER_UI_TOKEN="t" * 32)
    refused = run_dialer(["serve", "--port", "1", "--schedule", str(bad)], env)
    assert refused.returncode == 2, refused.output
    assert f"{bad}: campaign 'm', key 'schedule'" in refused.stderr
    assert "Traceback" not in refused.output
    no_page = run_dialer(["serve", "--schedule", str(bad)], dialer_env(tmp_path / "home"))
    assert no_page.returncode == 2 and "DIALER_UI_TOKEN" in no_page.stderr, no_page.output
