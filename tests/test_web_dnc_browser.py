"""The Do not call page in a real headless Chromium (as tests/test_web_browser.py): reached from
the menu, a number added with a reason, a file imported, a search, a number removed; the list
the page shows is the store's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.test_web_browser import SCREENSHOTS, browser_page, shoot, sign_in
from tests.web_support import web_server, web_settings

pytestmark = pytest.mark.integration
__all__ = ["browser_page"]  # the fixture, used by name


def test_a_person_keeps_the_do_not_call_list_on_the_page(
    browser_page: Any, api_key: str, tmp_path: Path
) -> None:
    page = browser_page
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    optouts = tmp_path / "opt-outs.csv"
    optouts.write_text("name,phone\nAda,+442079460429\nBob,(212) 555-0100\n", encoding="utf-8")
    with web_server(web_settings(tmp_path / "home", None, api_key)) as web:
        sign_in(page, web)
        page.click("nav >> text=Do not call")
        page.wait_for_url(f"{web.root_url}/dnc")
        assert "The list is empty" in page.inner_text("main")

        page.fill("#add-number", "(415) 555-0123")
        page.fill("#add-reason", "opted out")
        page.click("[data-dnc-add] button[type=submit]")
        page.wait_for_url("**/dnc?done=added*")
        assert "+14155550123 is on the do-not-call list" in page.inner_text("[data-notice]")
        assert "opted out" in page.inner_text("tr[data-number='+14155550123']")

        page.fill("#add-number", "555-01")
        page.click("[data-dnc-add] button[type=submit]")
        assert "is not a phone number" in page.inner_text("[data-error]")

        page.set_input_files("#import-file", str(optouts))
        page.fill("#import-reason", "complaint")
        page.click("[data-dnc-import] button[type=submit]")
        page.wait_for_url("**/dnc?done=imported*")
        assert "2 added from the file" in page.inner_text("[data-notice]")
        assert page.locator("tr[data-number]").count() == 3
        shoot(page, "dnc", full_page=True)

        page.fill("#q", "7946")
        page.click("form.search button[type=submit]")
        page.wait_for_url("**/dnc?q=7946*")
        assert page.locator("tr[data-number]").count() == 1

        page.goto(f"{web.root_url}/dnc")
        page.click("tr[data-number='+12125550100'] button:has-text('Remove')")
        page.wait_for_url("**/dnc?done=removed*")
        listed = {e.number for e in web.services.store.dnc_entries()}
    assert listed == {"+14155550123", "+442079460429"}
    assert script_errors == [], script_errors
