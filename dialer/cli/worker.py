"""`dialer worker`: a cluster worker (a Celery worker on REDIS_URL)."""

from __future__ import annotations

import click

from dialer.errors import InputError
from dialer.settings import Settings


@click.command(help="Start a cluster worker (a Celery worker on REDIS_URL).")
@click.option("--concurrency", type=int, default=None, help="Worker processes (default: cores).")
@click.option("--loglevel", default="INFO", show_default=True)
def worker(concurrency: int | None, loglevel: str) -> None:
    from workers.app import run_worker

    settings = Settings.from_env()
    if settings.redis_url is None:
        raise InputError("REDIS_URL is not set: a worker serves the cluster mode; set REDIS_URL.")
    run_worker(settings, concurrency=concurrency, loglevel=loglevel)
