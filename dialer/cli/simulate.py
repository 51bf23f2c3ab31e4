"""`dialer simulate`: the built-in Voxpria simulator served over HTTP."""

from __future__ import annotations

from typing import Any

import click

from dialer.settings import Rate, Settings


@click.command(help="Serve the built-in Voxpria simulator at http://127.0.0.1:PORT/api/v1.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8099, show_default=True)
@click.option(
    "--speed",
    type=float,
    default=1.0,
    show_default=True,
    help="Simulated seconds per real second (60: a 2-minute call lasts 2 s).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--call-limit", help="Calls per key, e.g. 100/min; `off` disables it.")
@click.option("--request-limit", help="Requests per key, e.g. 1000/h; `off` disables it.")
@click.option("--any-agent", is_flag=True, help="Treat any agent id as an active agent.")
@click.option("--p-429", "p_429", type=float, default=0.0, help="Probability of a spurious 429.")
@click.option(
    "--p-5xx", "p_5xx", type=float, default=0.0, help="Probability of a 500 before creating."
)
@click.option(
    "--p-lost", type=float, default=0.0, help="Probability the answer is lost after creating."
)
@click.option(
    "--p-slow", type=float, default=0.0, help="Probability the answer is slow after creating."
)
@click.option("--p-flaky-get", type=float, default=0.0, help="Probability a GET answers 5xx.")
def simulate(**opts: Any) -> None:
    from dialer.simulator.api import serve
    from dialer.simulator.config import SimulatorConfig

    settings = Settings.from_env()
    config = SimulatorConfig(
        api_key=settings.api_key or None,
        accept_any_agent=opts["any_agent"],
        speed=opts["speed"],
        seed=opts["seed"],
        call_limit=_limit(opts["call_limit"], "--call-limit", Rate(100, 60)),
        request_limit=_limit(opts["request_limit"], "--request-limit", Rate(1000, 3600)),
        p_429=opts["p_429"],
        p_5xx_before_create=opts["p_5xx"],
        p_lost_after_create=opts["p_lost"],
        p_slow_after_create=opts["p_slow"],
        p_flaky_get=opts["p_flaky_get"],
    )
    click.echo(f"Voxpria simulator at http://{opts['host']}:{opts['port']}/api/v1 (Ctrl-C stops)")
    serve(config, opts["host"], opts["port"])


def _limit(text: str | None, name: str, default: Rate) -> Rate | None:
    if text is None:
        return default
    return None if text.strip().lower() == "off" else Rate.parse(text, name=name)
