"""`dialer report CAMPAIGN`: the outcome report (and the Analysis workbook) of a stored campaign,
from any machine that reaches its store."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from dialer.errors import CampaignNotFound, InputError
from dialer.settings import Settings

if TYPE_CHECKING:
    from campaigns.backends import Services
    from campaigns.store.rows import RowStore


@click.command(
    help="Write the outcome report of CAMPAIGN (from any machine that reaches the store)."
)
@click.argument("campaign_id")
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    help="The report's path, .csv or .xlsx.",
)
@click.option(
    "--analysis",
    "analysis",
    type=click.Path(path_type=Path),
    help="Write the Analysis sheet alone to this .xlsx (answer rates by hour, attempt...).",
)
@click.option(
    "--csv-raw",
    is_flag=True,
    help="A CSV report with cells exactly as read, formula-looking ones included.",
)
def report(campaign_id: str, out: Path | None, analysis: Path | None, csv_raw: bool) -> None:
    from rich.console import Console

    from campaigns.backends import open_services
    from campaigns.report.output import check_report_path
    from campaigns.service import write_campaign_report
    from dialer.cli.console import say
    from dialer.cli.progress import summary_table
    from dialer.clock import SystemClock

    if out is None and analysis is None:
        raise InputError("dialer report: give --out PATH (the report), --analysis PATH, or both.")
    if out is not None:
        check_report_path(out)
    settings = Settings.from_env()
    services = open_services(settings, SystemClock())
    try:
        if services.store.get_campaign(campaign_id) is None:
            raise CampaignNotFound(no_campaign(campaign_id, services))
        if analysis is not None:
            _write_analysis(services.store, campaign_id, analysis)
        if out is not None:
            counts = write_campaign_report(services.store, campaign_id, out, csv_raw=csv_raw)
    finally:
        services.close()
    if analysis is not None:
        say(Console(), f"Analysis: {analysis}")
    if out is not None:
        Console().print(summary_table(counts, f"Campaign {campaign_id}"))
        say(Console(), f"Report: {out}")


def _write_analysis(store: RowStore, campaign_id: str, path: Path) -> None:
    from campaigns.report.analysis import outcome_frame
    from campaigns.report.analysis_sheet import write_analysis_workbook
    from campaigns.report.rows import report_rows

    meta = store.get_campaign(campaign_id)
    assert meta is not None
    frame = outcome_frame(report_rows(store.iter_rows(campaign_id), meta.state))
    try:
        write_analysis_workbook(path, frame)
    except OSError as exc:
        raise InputError(f"--analysis {path}: cannot write there ({exc.strerror}).") from None


def no_campaign(campaign_id: str, services: Services) -> str:
    where = "REDIS_URL" if services.cluster else f"the state folder {services.settings.home}"
    return (
        f"No campaign {campaign_id!r} in {where}. `dialer status` lists none by that id: check "
        "the id, DIALER_HOME and REDIS_URL."
    )
