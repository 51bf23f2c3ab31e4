"""`dialer serve` (the webhook receiver) and `dialer webhooks register/list` (subscriptions).

Registered on the `dialer` group by dialer.cli. Errors are DialerErrors, which `dialer.cli.main`
turns into one message and an exit code (2 for what the user must fix).

The webhook secret is shown by Voxpria once, when the subscription is created. It is the user's
own, but a terminal's scrollback and a CI log are not safe places for it: by default it is saved
to a file only its owner can read, and printed (on stdout, as an `export` line) only with
`--show-secret`. It is never logged.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import re
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TextIO

import click
from rich.console import Console

from campaigns.backends import open_services
from dialer.cli.console import say, warning_text
from dialer.clock import SystemClock
from dialer.errors import InputError, SettingsError
from dialer.logs import setup_logging
from dialer.metrics import Metrics
from dialer.receiver import WEBHOOK_PATH
from dialer.receiver import serve as serve_app
from dialer.settings import Settings
from dialer.voxpria.client import Timeouts, VoxpriaClient
from dialer.voxpria.models import Webhook
from dialer.web.metrics_route import with_metrics_route

# What a run needs to hear: how calls end. Non-final events would only be noted.
DEFAULT_EVENTS = ("call.completed", "call.failed", "call.ended")
SECRET_FILE = "webhook-secret"


@click.command(
    help="Serve the webhook receiver (POST /webhooks/voxpria, GET /healthz) and the web page "
    "(/): each is on when its setting is, VOXPRIA_WEBHOOK_SECRET and DIALER_UI_TOKEN."
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--verbose", is_flag=True, help="Also log every HTTP request, and debug detail.")
@click.option(
    "--schedule",
    "schedule_file",
    type=click.Path(path_type=Path),
    help="A campaign file: adds the Schedules page (default: DIALER_SCHEDULE_FILE).",
)
def serve(host: str, port: int, verbose: bool, schedule_file: Path | None) -> None:
    from dialer.web.app import build_serve_app  # jinja2 & co: only `serve` needs them

    settings = Settings.from_env()
    if schedule_file is not None:
        if not settings.ui_token:
            raise SettingsError(
                f"--schedule {schedule_file}: the Schedules page is part of the web page; set "
                "DIALER_UI_TOKEN (a long random token, e.g. `openssl rand -hex 24`) to turn it on."
            )
        settings = dataclasses.replace(settings, schedule_file=schedule_file)
    if not settings.webhook_secret and not settings.ui_token:
        raise SettingsError(NOTHING_TO_SERVE)  # before anything else: no setting, no server
    secrets = [settings.api_key.reveal(), settings.webhook_secret.reveal()]
    secrets.append(settings.ui_token.reveal())
    setup_logging(logging.DEBUG if verbose else logging.INFO, settings.log_format, secrets)
    clock = SystemClock()
    services = open_services(settings, clock)
    try:
        metrics = Metrics()
        served = build_serve_app(settings, services, clock, metrics=metrics)
        served = replace(served, app=with_metrics_route(served.app, metrics, services, clock))
        _say_what_is_on(settings, services.cluster, f"http://{host}:{port}")
        with contextlib.suppress(KeyboardInterrupt):  # a Ctrl-C uvicorn passes on once done
            serve_app(served.app, host, port, access_log=verbose)
        served.runs.stop_all()  # campaigns this process runs: no new calls, left resumable
        stopped = "Webhook receiver stopped." if settings.webhook_secret else "Server stopped."
        say(Console(stderr=True), stopped)
    finally:
        services.close()


NOTHING_TO_SERVE = (
    "Nothing to serve: set VOXPRIA_WEBHOOK_SECRET for the webhook receiver (register its public "
    "URL with `dialer webhooks register --url https://<host>/webhooks/voxpria`, which saves the "
    "secret Voxpria returns), or DIALER_UI_TOKEN for the web page (a long random token, e.g. "
    "`openssl rand -hex 24`), or both."
)
SHORT_TOKEN_CHARS = 16


def _say_what_is_on(settings: Settings, cluster: bool, root_url: str) -> None:
    where = "REDIS_URL" if cluster else f"the state folder {settings.home}"
    if settings.webhook_secret:
        receiver = f"on at {root_url}{WEBHOOK_PATH}, recording into {where}"
    else:
        receiver = "off (set VOXPRIA_WEBHOOK_SECRET to turn it on; deliveries get 503)"
    if settings.ui_token:
        runs_on = "on the cluster's workers" if cluster else "in this process"
        page = f"on at {root_url}/ (sign in with DIALER_UI_TOKEN; campaigns run {runs_on})"
    else:
        page = "off (set DIALER_UI_TOKEN to turn it on)"
    console = Console(stderr=True)
    say(console, f"Webhook receiver: {receiver}\nWeb page: {page}\n(Ctrl-C stops)")
    for warning in _ui_warnings(settings):
        say(console, warning_text(warning))


def _ui_warnings(settings: Settings) -> list[str]:
    if not settings.ui_token:
        return []
    warnings = []
    if len(settings.ui_token.reveal()) < SHORT_TOKEN_CHARS:
        warnings.append(
            "DIALER_UI_TOKEN is short and could be guessed: use a long random one "
            "(openssl rand -hex 24)."
        )
    if not settings.api_key:
        warnings.append(
            "VOXPRIA_API_KEY is not set: the page shows campaigns but cannot list agents or "
            "start calls until it is."
        )
    return warnings


@click.group(help="Manage Voxpria webhook subscriptions.")
def webhooks() -> None:
    pass


@webhooks.command(help="Subscribe URL to call events; saves the secret Voxpria returns once.")
@click.option(
    "--url", required=True, help="The receiver's public URL, ending in /webhooks/voxpria."
)
@click.option(
    "--event",
    "events",
    multiple=True,
    help=f"An event to subscribe to; repeat it (default: {', '.join(DEFAULT_EVENTS)}).",
)
@click.option(
    "--secret-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help=f"Where to save the secret, readable by you only (default: DIALER_HOME/{SECRET_FILE}).",
)
@click.option(
    "--show-secret",
    is_flag=True,
    help="Print the secret on stdout as an export line, instead of saving it to a file.",
)
def register(
    url: str, events: tuple[str, ...], secret_file: Path | None, show_secret: bool
) -> None:
    settings = Settings.from_env()
    _check_url(url)
    if show_secret:
        webhook = _subscribe(settings, url, events)
        click.echo(f"Registered webhook {webhook.webhook_id}: {_describe(webhook)}")
        if webhook.secret is not None:
            click.echo(f"export VOXPRIA_WEBHOOK_SECRET={shlex.quote(webhook.secret.reveal())}")
        return
    path = secret_file or settings.home / SECRET_FILE
    with _new_secret_file(path) as out:
        webhook = _subscribe(settings, url, events)
        if webhook.secret is not None:
            out.write(webhook.secret.reveal() + "\n")
    click.echo(f"Registered webhook {webhook.webhook_id}: {_describe(webhook)}")
    if webhook.secret is None:
        click.echo(NO_SECRET)
        return
    click.echo(
        f"Its secret is shown only once: it is saved in {path}, readable by you only. "
        "Give it to the receiver:\n"
        f'  export VOXPRIA_WEBHOOK_SECRET="$(cat {shlex.quote(str(path))})"\n'
        "  dialer serve --host 0.0.0.0"
    )


NO_SECRET = (
    "Voxpria returned no secret: copy it from its dashboard, then "
    "export VOXPRIA_WEBHOOK_SECRET=<secret> before `dialer serve`."
)


@webhooks.command(name="list", help="List the account's webhook subscriptions.")
def list_webhooks() -> None:
    settings = Settings.from_env()
    with _client(settings) as client:
        found = client.list_webhooks()
    if not found:
        click.echo(
            "No webhooks registered. Add one: dialer webhooks register --url "
            f"https://<your host>{WEBHOOK_PATH}"
        )
    for webhook in found:
        click.echo(f"{webhook.webhook_id}  {_describe(webhook)}")


def _client(settings: Settings) -> VoxpriaClient:
    settings.require_api_key()
    timeouts = Timeouts(read_s=settings.http_read_timeout_s)
    return VoxpriaClient(settings.base_url, settings.api_key, timeouts=timeouts)


def _check_url(url: str) -> None:
    if not re.match(r"^https?://[^/\s]+", url):
        raise InputError(
            f"--url {url!r} is not a URL: give the receiver's public address, like "
            f"https://hooks.example.com{WEBHOOK_PATH}."
        )
    if not url.rstrip("/").endswith(WEBHOOK_PATH):
        click.echo(
            f"note: `dialer serve` receives at {WEBHOOK_PATH}; {url} is another path.", err=True
        )


def _describe(webhook: Webhook) -> str:
    state = {True: "active", False: "inactive", None: "state unknown"}[webhook.active]
    events = ", ".join(webhook.events) or "events not listed"
    return f"{webhook.url or '(no url)'} [{state}] {events}"


def _subscribe(settings: Settings, url: str, events: tuple[str, ...]) -> Webhook:
    with _client(settings) as client:
        return client.create_webhook(url, list(events or DEFAULT_EVENTS))


@contextmanager
def _new_secret_file(path: Path) -> Iterator[TextIO]:
    """A new file for the secret, created 0600 (never readable by others, even briefly) before
    subscribing: if it cannot be made, nothing is registered in vain, and a secret shown only
    once is never lost to an unwritable path. An existing file (a previous webhook's secret?)
    is never overwritten; the file is removed again if nothing was written to it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InputError(
            f"{path} exists already (a previous webhook's secret?): move it away, or give "
            "another --secret-file."
        ) from None
    except OSError as exc:
        raise InputError(
            f"Cannot create {path} for the secret ({exc}): give --secret-file."
        ) from exc
    out = os.fdopen(fd, "w")
    written = False
    try:
        yield out
        written = out.tell() > 0
    finally:
        out.close()
        if not written:  # also when subscribing failed
            path.unlink(missing_ok=True)
