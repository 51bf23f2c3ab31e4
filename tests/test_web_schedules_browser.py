"""The Schedules page in a real headless Chromium (as tests/test_web_browser.py): next runs
shown, a past run's link opens its campaign page, the export downloads and holds both days'
rows (its Analysis sheet too)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from dialer.settings import Secret
from dialer.simulator.server import SimulatorHandle, running_simulator
from tests.schedule_web_support import FIRST_DAY, SECOND_DAY, schedule_folder, store_past_runs
from tests.test_web_browser import SCREENSHOTS, browser_page, shoot, sign_in
from tests.web_support import SPEED, web_server, web_settings

pytestmark = pytest.mark.integration
__all__ = ["browser_page"]  # the fixture, used by name


@pytest.fixture
def sim(api_key: str) -> Iterator[SimulatorHandle]:
    with running_simulator(
        api_key=Secret(api_key), speed=SPEED, call_limit=None, request_limit=None
    ) as handle:
        yield handle


def test_a_person_sees_schedules_opens_a_past_run_and_exports_two_days(
    browser_page: Any, sim: SimulatorHandle, api_key: str, tmp_path: Path
) -> None:
    page = browser_page
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    scheduled = schedule_folder(tmp_path / "files")
    settings = web_settings(tmp_path / "home", sim, api_key, schedule_file=scheduled.file)
    with web_server(settings) as web:
        store_past_runs(web.services.store, scheduled)
        sign_in(page, web)
        page.click("nav >> text=Schedules")
        page.wait_for_url(f"{web.root_url}/schedules")
        reminders = page.locator("[data-schedule=reminders]")
        next_runs = reminders.locator("table.next-runs tbody tr")
        assert next_runs.count() == 5
        assert "08:30" in next_runs.first.inner_text() and "UTC" in next_runs.first.inner_text()
        assert "At 08:30 AM" in reminders.inner_text()
        shoot(page, "schedules", full_page=True)

        first_id, second_id = scheduled.past_ids
        page.click(f"a[href='/campaigns/{second_id}']")
        page.wait_for_url(f"**/campaigns/{second_id}")
        assert second_id in page.inner_text("h1")
        page.go_back()

        first, second = scheduled.past_days
        reminders.locator("input[name=since]").fill(first.isoformat())
        reminders.locator("input[name=until]").fill(second.isoformat())
        reminders.locator("select[name=format]").select_option("xlsx")
        with page.expect_download() as caught:
            reminders.locator("form.export button").click()
        target = tmp_path / caught.value.suggested_filename
        caught.value.save_as(target)
    book = openpyxl.load_workbook(target)
    assert book.sheetnames[:3] == ["Outcomes", "Summary", "Analysis"]
    rows = list(book["Outcomes"].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    dates = [row[header.index("run_date")] for row in body]
    assert dates == [first.isoformat()] * len(FIRST_DAY) + [second.isoformat()] * len(SECOND_DAY)
    assert tuple(row[header.index("status")] for row in body) == FIRST_DAY + SECOND_DAY
    analysis = [r[0] for r in book["Analysis"].iter_rows(values_only=True)]
    assert "Answer rate per day" in analysis and first_id not in analysis
    assert script_errors == [], script_errors
