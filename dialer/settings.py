"""Settings read once from the environment into one typed object, passed explicitly.

A flag of the same meaning wins over the variable: the CLI builds `Settings` from the
environment and then `replace()`s what the flags set.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dialer.durations import parse_duration_s
from dialer.errors import InputError, SettingsError

DEFAULT_BASE_URL = "https://app.voxpria.com/api/v1"
RATE_FORM = "N/s, N/min or N/h (for example 100/min)"
_UNIT_S = {"s": 1.0, "sec": 1.0, "min": 60.0, "m": 60.0, "h": 3600.0, "hr": 3600.0}
_RATE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*([a-z]+)\s*$")


@dataclass(frozen=True)
class Rate:
    """`count` events per `period_s` seconds."""

    count: float
    period_s: float

    @property
    def per_s(self) -> float:
        return self.count / self.period_s

    @property
    def interval_s(self) -> float:
        """The spacing between events at this rate."""
        return self.period_s / self.count

    def __str__(self) -> str:
        unit = {1.0: "s", 60.0: "min", 3600.0: "h"}.get(self.period_s, f"{self.period_s:g}s")
        return f"{self.count:g}/{unit}"

    @classmethod
    def parse(cls, text: str, *, name: str) -> Rate:
        """Parse `N/s`, `N/min`, `N/h`; `name` (the variable or option) goes into the error."""
        match = _RATE_RE.match(text.lower())
        if not match or match.group(2) not in _UNIT_S or float(match.group(1)) <= 0:
            raise SettingsError(f"{name}={text!r} is not a rate: write it as {RATE_FORM}.")
        return cls(float(match.group(1)), _UNIT_S[match.group(2)])


def shown_url(url: str) -> str:
    """`url` fit to print: a user or password in it (`https://user:pass@host`) shown as `***`
    (in a malformed URL too), a query string or fragment (where keys sometimes go) dropped."""
    return _USERINFO.sub("***@", url.split("?", 1)[0].split("#", 1)[0])


_USERINFO = re.compile(r"[^/\s@]+@")


class Secret:
    """A string that never shows itself in repr(), str() or f-strings."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('********')" if self._value else "Secret('')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _positive(env: Mapping[str, str], name: str, default: float, *, unit: str) -> float:
    """A positive number from `name`, or `default` when it is unset."""
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise SettingsError(f"{name}={text!r} is not a number of {unit}: write it like 10 or 0.5.")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    return _positive(env, name, default, unit="seconds")


def _megabytes(env: Mapping[str, str], name: str, default: float) -> float:
    return _positive(env, name, default, unit="megabytes")


def _log_format(env: Mapping[str, str]) -> str:
    text = env.get("DIALER_LOG_FORMAT", "").strip().lower() or "text"
    if text not in ("text", "json"):
        raise SettingsError(f"DIALER_LOG_FORMAT={text!r} is not a log format: write text or json.")
    return text


def _port(env: Mapping[str, str], name: str) -> int | None:
    text = env.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise SettingsError(f"{name}={text!r} is not a TCP port: write a number from 1 to 65535.")
    return int(text)


def _queue_name(env: Mapping[str, str], name: str, default: str) -> str:
    text = env.get(name, "").strip() or default
    if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,100}", text):
        raise SettingsError(f"{name}={text!r} is not a queue name: use letters, digits and ._:-")
    return text


def _calls_per_period(env: Mapping[str, str], name: str) -> str:
    """`7/7d` (N calls in a period), checked here; campaigns.store.history.CallCap reads it."""
    text = env.get(name, "").strip()
    if not text:
        return ""
    count, _, period = text.partition("/")
    try:
        period_s = parse_duration_s(period, name=name) if period.strip() else 0.0
    except InputError:
        period_s = 0.0
    if not count.strip().isdigit() or int(count) < 1 or period_s <= 0:
        raise SettingsError(f"{name}={text!r}: write it as N/Dd, like 7/7d (N calls in D days).")
    return text


@dataclass(frozen=True)
class Settings:
    api_key: Secret = field(default_factory=lambda: Secret(""))
    base_url: str = DEFAULT_BASE_URL
    call_limit: Rate = Rate(100, 60)
    request_limit: Rate = Rate(1000, 3600)
    redis_url: str | None = None
    home: Path = Path(".dialer")
    webhook_secret: Secret = field(default_factory=lambda: Secret(""))
    # How often live calls are looked at (seconds); lower them only for a fast simulator.
    poll_min_s: float = 10.0
    poll_max_s: float = 60.0
    http_read_timeout_s: float = 15.0  # how long an API answer may take before it is given up
    # Scheme B signatures carry their signing time: older (or newer) than this is a replay.
    webhook_tolerance_s: float = 300.0
    # With webhooks on, a live call is polled only once it is this old without its final event.
    webhook_overdue_s: float = 300.0
    # The web page (`dialer serve`): off unless a token is set; the largest upload it takes.
    ui_token: Secret = field(default_factory=lambda: Secret(""))
    ui_max_upload_mb: float = 50.0
    # A campaign file whose campaigns the page's Schedules page shows (`dialer serve --schedule`).
    schedule_file: Path | None = None
    # Operations: log lines as text or JSON; a worker's Prometheus port; the shifts' queue.
    log_format: str = "text"
    metrics_port: int | None = None
    shift_queue: str = "dialer.shifts"
    # How long the page's plan of an uploaded list may take before it is stopped.
    ui_plan_timeout_s: float = 120.0
    # After an ambiguous POST, the call list is searched this long before the call is taken as
    # never created (and the row dialled again).
    verify_after_s: float = 120.0
    # Cluster mode refuses a Redis that may lose acknowledged writes, unless this is set (for
    # throwaway tests only): DIALER_ALLOW_VOLATILE_REDIS=1.
    allow_volatile_redis: bool = False
    # The default of `dialer run --max-calls` (N calls to one number in a period), "" for none.
    max_calls: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        base_url = env.get("VOXPRIA_BASE_URL", "").strip() or DEFAULT_BASE_URL
        if not re.match(r"^https?://[^/\s]+", base_url):
            raise SettingsError(
                f"VOXPRIA_BASE_URL={shown_url(base_url)!r} is not a URL: write the API root up "
                f"to and including /api/v1, for example {DEFAULT_BASE_URL}."
            )
        call_limit = env.get("VOXPRIA_CALL_LIMIT", "").strip()
        request_limit = env.get("VOXPRIA_REQUEST_LIMIT", "").strip()
        return cls(
            api_key=Secret(env.get("VOXPRIA_API_KEY", "").strip()),
            base_url=base_url.rstrip("/"),
            call_limit=Rate.parse(call_limit, name="VOXPRIA_CALL_LIMIT")
            if call_limit
            else cls.call_limit,
            request_limit=Rate.parse(request_limit, name="VOXPRIA_REQUEST_LIMIT")
            if request_limit
            else cls.request_limit,
            redis_url=env.get("REDIS_URL", "").strip() or None,
            home=Path(env.get("DIALER_HOME", "").strip() or ".dialer"),
            webhook_secret=Secret(env.get("VOXPRIA_WEBHOOK_SECRET", "").strip()),
            poll_min_s=_seconds(env, "DIALER_POLL_MIN_S", cls.poll_min_s),
            poll_max_s=_seconds(env, "DIALER_POLL_MAX_S", cls.poll_max_s),
            http_read_timeout_s=_seconds(env, "DIALER_HTTP_TIMEOUT_S", cls.http_read_timeout_s),
            webhook_tolerance_s=_seconds(
                env, "DIALER_WEBHOOK_TOLERANCE_S", cls.webhook_tolerance_s
            ),
            webhook_overdue_s=_seconds(env, "DIALER_WEBHOOK_OVERDUE_S", cls.webhook_overdue_s),
            ui_token=Secret(env.get("DIALER_UI_TOKEN", "").strip()),
            ui_max_upload_mb=_megabytes(env, "DIALER_UI_MAX_UPLOAD_MB", cls.ui_max_upload_mb),
            schedule_file=Path(env["DIALER_SCHEDULE_FILE"].strip())
            if env.get("DIALER_SCHEDULE_FILE", "").strip()
            else None,
            log_format=_log_format(env),
            metrics_port=_port(env, "DIALER_METRICS_PORT"),
            shift_queue=_queue_name(env, "DIALER_SHIFT_QUEUE", cls.shift_queue),
            ui_plan_timeout_s=_seconds(env, "DIALER_UI_PLAN_TIMEOUT_S", cls.ui_plan_timeout_s),
            verify_after_s=_seconds(env, "DIALER_VERIFY_AFTER_S", cls.verify_after_s),
            max_calls=_calls_per_period(env, "DIALER_MAX_CALLS"),
            allow_volatile_redis=env.get("DIALER_ALLOW_VOLATILE_REDIS", "").strip().lower()
            in ("1", "yes", "true"),
        )

    def require_api_key(self) -> str:
        if not self.api_key:
            raise SettingsError(
                "VOXPRIA_API_KEY is not set: export VOXPRIA_API_KEY=<your key> "
                "(or use --simulate to try the dialer on the built-in simulator)."
            )
        return self.api_key.reveal()

    def require_webhook_secret(self) -> Secret:
        if not self.webhook_secret:
            raise SettingsError(
                "VOXPRIA_WEBHOOK_SECRET is not set, so no delivery could be verified and the "
                "receiver will not start. Register the receiver's public URL with `dialer "
                "webhooks register --url https://<host>/webhooks/voxpria`: it saves the secret "
                "Voxpria returns; then export VOXPRIA_WEBHOOK_SECRET=<that secret>."
            )
        return self.webhook_secret
