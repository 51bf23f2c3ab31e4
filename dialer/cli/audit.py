"""`dialer audit CAMPAIGN --out FILE`: the attempt log of a campaign (campaigns.report.attempts)."""

from __future__ import annotations

from pathlib import Path

import click

from dialer.errors import CampaignNotFound, InputError
from dialer.settings import Settings

SHORT_HELP = (
    "Write a campaign's attempt log: every POST /calls, when, in whose local time, and why."
)


@click.command(
    short_help=SHORT_HELP,
    help="Write the attempt log of CAMPAIGN: one line per POST /calls attempt, with its UTC "
    "time, the recipient's local time and zone, the window and calling rule that allowed it, "
    "and its outcome.",
)
@click.argument("campaign_id")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="The log's path, .csv or .xlsx.",
)
def audit(campaign_id: str, out: Path) -> None:
    from rich.console import Console

    from campaigns.backends import open_services
    from campaigns.report.attempts import attempt_lines, write_attempts
    from dialer.cli.console import say
    from dialer.clock import SystemClock

    if out.suffix.lower() not in (".csv", ".xlsx"):
        raise InputError(
            f"--out {out}: the attempt log is written as .csv or .xlsx; give a path "
            "ending in one of them."
        )
    if out.is_dir():
        raise InputError(
            f"--out {out}: that is a folder. Give a file path ending in .csv or .xlsx."
        )
    settings = Settings.from_env()
    services = open_services(settings, SystemClock())
    try:
        meta = services.store.get_campaign(campaign_id)
        if meta is None:
            where = "REDIS_URL" if services.cluster else f"the state folder {settings.home}"
            raise CampaignNotFound(
                f"No campaign {campaign_id!r} in {where}: check the id (`dialer status` lists "
                "running ones), DIALER_HOME and REDIS_URL."
            )
        lines = write_attempts(out, attempt_lines(services.store, meta))
    finally:
        services.close()
    say(Console(), f"Attempt log: {out} ({lines:,} attempts)")
