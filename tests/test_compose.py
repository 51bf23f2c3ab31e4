"""The compose file, checked with a compose-spec parser (no Docker engine here), and the
checker itself shown to catch what would break a deployment."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.compose_check import problems

ROOT = Path(__file__).resolve().parent.parent


def test_the_compose_file_is_valid_and_has_what_the_cluster_needs() -> None:
    assert problems(ROOT / "docker-compose.yml") == []


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    for name in ("docker-compose.yml", "Dockerfile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path / "docker-compose.yml"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('"--appendfsync", "always"', '"--appendfsync", "everysec"', "appendfsync always"),
        ("    restart: unless-stopped\n", "    restart: sometimes\n", "not a valid compose"),
        (
            "      redis: {condition: service_healthy}\n",
            "      cache: {condition: service_started}\n",
            "'cache'",
        ),
        ("    expose:", "    exposes:", "not a valid compose"),
        ('"-c", "import os, redis', '"-c", "import $(hostname), redis', "not an interpolation"),
        ('args: {EXTRAS: "[flower]"}', 'args: {EXTRAS: "[flowers]"}', "extra 'flowers'"),
    ],
)
def test_the_checker_catches_a_broken_file(copy: Path, old: str, new: str, expected: str) -> None:
    text = copy.read_text()
    assert old in text
    copy.write_text(text.replace(old, new, 1))
    assert any(expected in p for p in problems(copy)), problems(copy)


def test_a_service_without_a_healthcheck_is_caught(copy: Path) -> None:
    text = copy.read_text()
    start = text.index("    healthcheck:\n      # the beat")
    end = text.index("    restart:", start)
    copy.write_text(text[:start] + text[end:])
    assert problems(copy) == ["service 'beat' has no healthcheck"]


def test_an_image_that_installs_more_than_the_project_is_caught(copy: Path) -> None:
    dockerfile = copy.parent / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "RUN pip install requests\n")
    assert any("installs requests" in p for p in problems(copy))
