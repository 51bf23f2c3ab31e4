"""The README is the user's manual: the files it points to exist, and the sections the operators
and campaign managers are sent to (schedules, analysis, operations) show what they promise."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
# Markdown links and images to files of the project: [text](path) or ![alt](path)
LOCAL_LINK = re.compile(r"\]\((?!https?://|#|mailto:)([^)\s#]+)")


def section(title_start: str) -> str:
    """The text of the `## ` section whose title starts with `title_start`."""
    match = re.search(rf"^## {re.escape(title_start)}.*?(?=^## |\Z)", README, re.M | re.S)
    assert match, f"README has no section starting {title_start!r}"
    return match.group(0)


@pytest.mark.parametrize("target", sorted(set(LOCAL_LINK.findall(README))))
def test_every_file_the_readme_links_to_exists(target: str) -> None:
    assert (ROOT / target).exists(), f"README links to {target}, which is not in the project"


def test_the_schedules_and_analysis_section_shows_both_screenshots() -> None:
    text = section("Schedules on the page")
    for image in ("docs/schedules-page.png", "docs/analysis-sheet.png"):
        assert f"]({image})" in text
        assert (ROOT / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{image} is not a PNG"


def test_the_operations_section_shows_celery_commands_metrics_and_the_dashboard() -> None:
    text = section("Operations")
    for command in ("celery -A workers worker", "celery -A workers inspect", "flower"):
        assert command in text, command
    for metric in ("dialer_calls_created_total", "dialer_poll_lag_seconds", "DIALER_METRICS_PORT"):
        assert metric in text, metric
    assert "examples/grafana-dashboard.json" in text
    assert "DIALER_LOG_FORMAT=json" in text
