"""Settings come from the environment, once, and a bad value says what to write instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialer.errors import SettingsError
from dialer.settings import DEFAULT_BASE_URL, Rate, Settings


def test_defaults_are_the_documented_limits() -> None:
    s = Settings.from_env({})
    assert s.base_url == DEFAULT_BASE_URL
    assert s.call_limit == Rate(100, 60) and s.request_limit == Rate(1000, 3600)
    assert s.redis_url is None and s.home == Path(".dialer")


@pytest.mark.parametrize(
    ("text", "per_s"),
    [("100/min", 100 / 60), ("1000/h", 1000 / 3600), ("5/s", 5.0), (" 2 / S ", 2.0)],
)
def test_rates(text: str, per_s: float) -> None:
    assert Rate.parse(text, name="X").per_s == pytest.approx(per_s)


@pytest.mark.parametrize("value", ["fast", "100", "0/min", "-1/s", "10/week"])
def test_a_bad_limit_names_the_variable_the_value_and_the_form(value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"VOXPRIA_CALL_LIMIT": value})
    message = str(caught.value)
    assert "VOXPRIA_CALL_LIMIT" in message and repr(value) in message and "N/min" in message
    assert caught.value.exit_code == 2


def test_a_bad_base_url_is_refused() -> None:
    with pytest.raises(SettingsError, match="VOXPRIA_BASE_URL"):
        Settings.from_env({"VOXPRIA_BASE_URL": "app.voxpria.com"})


def test_the_key_never_shows_in_repr_or_errors() -> None:
    s = Settings.from_env({"VOXPRIA_API_KEY": "agl_sk_supersecret123"})
    assert "supersecret" not in repr(s) and "supersecret" not in str(s)
    assert s.require_api_key() == "agl_sk_supersecret123"


def test_a_missing_key_says_how_to_set_it() -> None:
    with pytest.raises(SettingsError, match="export VOXPRIA_API_KEY"):
        Settings.from_env({}).require_api_key()


def test_dialer_max_calls_is_checked_when_read() -> None:
    assert Settings.from_env({}).max_calls == ""
    assert Settings.from_env({"DIALER_MAX_CALLS": " 7/7d "}).max_calls == "7/7d"
    for bad in ("7", "0/7d", "x/7d", "7/soon", "7/0d"):
        with pytest.raises(SettingsError, match=r"DIALER_MAX_CALLS=.*like 7/7d"):
            Settings.from_env({"DIALER_MAX_CALLS": bad})
