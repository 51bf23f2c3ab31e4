"""The `dialer` command line. Thin: it parses options, wires the parts, and prints.

Every DialerError becomes one message and its exit code (2 for input the user must fix);
nothing leaves as a traceback.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from click.core import ParameterSource

from campaigns.store.history import DEFAULT_RECALL_AFTER_S
from dialer import __version__
from dialer.cli.lazy import LazyGroup
from dialer.durations import hours_text
from dialer.errors import DialerError, InputError
from dialer.settings import Secret, Settings

# Each command imports what it needs when it runs (pandas-free, but openpyxl, phonenumbers,
# httpx, redis, rich and the engine cost a second of start-up): `dialer --help` stays quick.
if TYPE_CHECKING:
    from campaigns.dial_options import DialOptions
    from campaigns.dialing.policy import PollPolicy
    from campaigns.lists.contacts import ContactList

EXIT_INTERRUPTED = 130
SIMULATED_SPEED = 60.0  # --simulate: a 2-minute call lasts 2 seconds
F = TypeVar("F", bound=Callable[..., Any])


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2 if exc.exit_code == 2 else exc.exit_code)
    except DialerError as exc:
        from dialer.cli.console import say_error

        say_error(exc)
        sys.exit(exc.exit_code)
    except Exception as exc:  # a SQLite or Redis failure the stores did not translate
        from dialer.store_errors import store_failure  # sqlite3: only when something failed

        failure = store_failure(exc)
        if failure is None:
            raise
        from dialer.cli.console import say_error

        say_error(failure)
        sys.exit(failure.exit_code)
    except KeyboardInterrupt:
        from rich.console import Console

        from dialer.cli.console import say

        say(Console(stderr=True), "Stopped at once. Run the same command again to resume.")
        sys.exit(EXIT_INTERRUPTED)


@click.group(cls=LazyGroup, help="Bulk campaign dialer for the Voxpria voice-call API.")
@click.version_option(version=__version__, package_name="voxpria-dialer")
def cli() -> None:
    pass


def _setup_logging(verbose: bool) -> None:
    import logging

    from dialer.logs import setup_logging

    settings = Settings.from_env()
    level = logging.DEBUG if verbose else logging.WARNING
    setup_logging(level, settings.log_format, [settings.api_key.reveal()])
    logging.getLogger("httpx").setLevel(logging.INFO if verbose else logging.WARNING)


def _default_report(contacts: Path) -> Path:
    return contacts.with_name(f"{contacts.stem}.outcomes.csv")


@cli.command(help="Call every valid row of CONTACTS once and write the outcome report.")
@click.argument("contacts", type=click.Path(path_type=Path))
@click.option("--agent", "agent_id", required=True, help="The Voxpria agent that makes the calls.")
@click.option("--rate", help="This agent's call creations, e.g. 30/min (default: account limit).")
@click.option(
    "--max-active",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="This agent's calls started and not yet ended.",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(path_type=Path),
    help="The outcome report, .csv or .xlsx (default: <CONTACTS stem>.outcomes.csv).",
)
@click.option("--phone-column", help="The column that holds the number.")
@click.option(
    "--phone-columns",
    help="Phone columns in the order to try, comma-separated: a row whose first is empty is "
    "called on the next (default: every phone column, mobile first).",
)
@click.option(
    "--encoding", help="The CSV's text encoding, e.g. cp1251 (default: decided from the file)."
)
@click.option("--delimiter", help="The CSV's delimiter: , ; | or tab (default: sniffed).")
@click.option(
    "--region",
    default="US",
    show_default=True,
    help="Region for numbers written without a country code.",
)
@click.option("--variables", help="Columns sent as variables, comma-separated (default: all).")
@click.option(
    "--window",
    default="08:00-21:00",
    show_default=True,
    help="When a person may be called, in their local time; `any` turns it off.",
)
@click.option("--timezone-column", help="A column of IANA zone names overriding the number's.")
@click.option("--redial", help="Extra attempts by final status: busy=N,no_answer=N,failed=N.")
@click.option("--redial-after", default="30m", show_default=True, help="Wait before a redial.")
@click.option("--suppress", type=click.Path(path_type=Path), help="Numbers never to call.")
@click.option("--campaign", "campaign_id", help="Names the run; the same id resumes it.")
@click.option(
    "--csv-raw",
    is_flag=True,
    help="A CSV report with cells exactly as read, formula-looking ones included (for "
    "programs, not spreadsheets).",
)
@click.option(
    "--recall-after",
    help="A number any other campaign called more recently than this is not called "
    f"(suppressed); 0 turns the guard off (default: {hours_text(DEFAULT_RECALL_AFTER_S)}).",
)
@click.option(
    "--in-doubt",
    default="verify",
    show_default=True,
    help="A row whose POST answer was lost: verify (dial again once the call list proves no "
    "call was created) or unknown (never).",
)
@click.option(
    "--max-calls",
    help="At most N calls to one number in any D days, across campaigns, e.g. 7/7d "
    "(default: DIALER_MAX_CALLS, else none).",
)
@click.option(
    "--rules",
    "rules_path",
    type=click.Path(path_type=Path),
    help="Calling rules by country, state or area code (windows, days, dates without calls): "
    "a TOML file, see examples/calling-rules.toml.",
)
@click.option(
    "--min-balance",
    help="Stop starting calls when the account's credit balance falls under this amount "
    "(live calls are followed to their end; rows not started stay pending for a resume).",
)
@click.option("--dry-run", is_flag=True, help="Validate and plan; call nobody.")
@click.option("--detach", is_flag=True, help="Cluster mode: submit, print the id, return.")
@click.option(
    "--simulate",
    is_flag=True,
    help="Run against the built-in simulator, started in this process (no key needed).",
)
@click.option(
    "--webhooks",
    is_flag=True,
    help="Outcomes arrive by webhook (`dialer serve`): poll a call only once it is overdue "
    "(DIALER_WEBHOOK_OVERDUE_S).",
)
@click.option("--quiet", is_flag=True, help="Print only errors and the report's path.")
@click.option("--verbose", is_flag=True, help="Log every request and decision.")
def run(**opts: Any) -> None:
    from rich.console import Console

    from campaigns.dialing.campaign import check_campaign_id, derive_campaign_id
    from campaigns.lists.contacts import ListOptions, open_contact_list
    from campaigns.report.output import check_report_path
    from campaigns.service import Ended
    from dialer.cli.run import Launch, launch

    _setup_logging(opts["verbose"])
    settings = Settings.from_env()
    # --detach prints the campaign id alone on stdout: everything else goes to stderr
    console = Console(stderr=opts["detach"])
    if opts["simulate"] and settings.redis_url:
        raise InputError(
            "--simulate runs embedded only: unset REDIS_URL, or run `dialer simulate` and point "
            "the workers' VOXPRIA_BASE_URL at it."
        )
    if opts["detach"] and not settings.redis_url:
        raise InputError("--detach needs the cluster mode: set REDIS_URL (and start workers).")
    contacts_path: Path = opts["contacts"]
    report_path: Path = opts["report_path"] or _default_report(contacts_path)
    check_report_path(report_path)
    policy = dial_options(opts, settings).policy(verify_after_s=settings.verify_after_s)
    campaign_id = check_campaign_id(opts["campaign_id"]) if opts["campaign_id"] else None
    contacts = open_contact_list(
        contacts_path,
        ListOptions(
            phone_column=opts["phone_column"],
            region=opts["region"],
            variables=_split(opts["variables"]),
            timezone_column=opts["timezone_column"],
            suppress=opts["suppress"],
            encoding=opts["encoding"],
            delimiter=opts["delimiter"],
            phone_columns=_split(opts["phone_columns"]),
        ),
    )
    if opts["dry_run"]:
        from dialer.cli.dry_run import dry_run_plan

        dry_run_plan(console, contacts, policy, settings, report_path, opts["csv_raw"])
        return
    with _maybe_simulator(settings, opts["simulate"]) as (settings, poll):
        if not settings.api_key:
            _read_every_row(contacts)  # a broken row is said first: it too is exit 2
        settings.require_api_key()
        if opts["webhooks"]:
            poll = replace(poll, webhook_overdue_s=settings.webhook_overdue_s)
        policy = replace(policy, poll=poll)
        campaign_id = campaign_id or derive_campaign_id(contacts, policy.agent_id)
        job = Launch(
            settings,
            contacts,
            policy,
            campaign_id,
            report_path,
            resume_command=_run_command,
            quiet=opts["quiet"],
            detach=opts["detach"],
            console=console,
            csv_raw=opts["csv_raw"],
        )
        end = launch(job)
    if end is Ended.DETACHED:
        click.echo(campaign_id)
    elif end in (Ended.STOPPED, Ended.LEFT):
        sys.exit(EXIT_INTERRUPTED)


def dial_options(opts: Mapping[str, Any], settings: Settings | None = None) -> DialOptions:
    """`dialer run`'s dialing flags, as the one options builder takes them; the settings give
    the defaults the environment sets (DIALER_MAX_CALLS, checked when it was read)."""
    from campaigns.dial_options import DialOptions
    from campaigns.dialing.rules_file import read_rules

    return DialOptions(
        agent_id=opts["agent_id"],
        rate=opts["rate"] or None,
        max_active=opts["max_active"],
        window=opts["window"],
        redial=opts["redial"],
        redial_after=opts["redial_after"],
        recall_after=opts["recall_after"],
        in_doubt=opts["in_doubt"],
        max_calls=opts["max_calls"] or (settings.max_calls if settings else None) or None,
        min_balance=opts["min_balance"],
        rules=read_rules(opts["rules_path"]) if opts.get("rules_path") else None,
    )


def _read_every_row(contacts: ContactList) -> None:
    """Read the whole list: a ragged row or a quote left open raises InputError naming it.
    (A run reads the rows when it stores the campaign, after the API checks the key and agent;
    without a key it would never get there and never tell.)"""
    from campaigns.lists.list_pass import read_list

    for _ in read_list(contacts):
        pass


def _split(text: str | None) -> list[str] | None:
    return [part.strip() for part in text.split(",") if part.strip()] if text else None


@contextmanager
def _maybe_simulator(settings: Settings, simulate: bool) -> Iterator[tuple[Settings, PollPolicy]]:
    from campaigns.dialing.policy import PollPolicy

    if not simulate:
        yield settings, PollPolicy(settings.poll_min_s, settings.poll_max_s)
        return
    from dialer.simulator.config import SimulatorConfig
    from dialer.simulator.server import running_simulator

    config = SimulatorConfig(
        speed=SIMULATED_SPEED,
        call_limit=settings.call_limit,
        request_limit=settings.request_limit,
        seed=7,
    )
    with running_simulator(config) as sim:
        key = settings.api_key if settings.api_key else Secret("sim_demo_key")
        yield (
            replace(settings, base_url=sim.base_url, api_key=key),
            PollPolicy(scale=1 / SIMULATED_SPEED),
        )


# Options that do not belong in a command that resumes a run.
_NOT_REPEATED = frozenset({"campaign_id", "dry_run", "detach"})


def _run_command(campaign_id: str) -> str:
    """The `dialer run` command being run, every option the user gave repeated (a resumed run
    dials with the options given now) and `--campaign` set: ready to copy into a shell."""
    ctx = click.get_current_context()
    words = ["dialer", "run", str(ctx.params["contacts"])]
    for param in ctx.command.params:
        name = param.name or ""
        if not isinstance(param, click.Option) or name in _NOT_REPEATED:
            continue
        if ctx.get_parameter_source(name) in (None, ParameterSource.DEFAULT):
            continue
        value = ctx.params.get(name)
        if param.is_flag:
            words += [param.opts[0]] if value else []
        elif value is not None:
            words += [param.opts[0], str(value)]
    return shlex.join([*words, "--campaign", campaign_id])


# Commands of other modules, imported when they run; the line is what `dialer --help` lists.
cli.add_lazy(
    "report",
    "dialer.cli.report:report",
    "Write the outcome report of CAMPAIGN (from any machine that reaches the store).",
)
cli.add_lazy(
    "status",
    "dialer.cli.status:status",
    "Print a campaign's progress (without CAMPAIGN: every running one) and, in cluster mode, "
    "the workers consuming shifts; --wait returns when CAMPAIGN ends.",
)
cli.add_lazy(
    "simulate",
    "dialer.cli.simulate:simulate",
    "Serve the built-in Voxpria simulator at http://127.0.0.1:PORT/api/v1.",
)
cli.add_lazy(
    "worker", "dialer.cli.worker:worker", "Start a cluster worker (a Celery worker on REDIS_URL)."
)
cli.add_lazy(
    "doctor", "dialer.cli.doctor:doctor", "Check the account and the API before a first campaign."
)
cli.add_lazy(
    "serve",
    "dialer.cli.webhooks:serve",
    "Serve the webhook receiver (POST /webhooks/voxpria, GET /healthz) and the web page (/): "
    "each is on when its setting is, VOXPRIA_WEBHOOK_SECRET and DIALER_UI_TOKEN.",
)
cli.add_lazy("webhooks", "dialer.cli.webhooks:webhooks", "Manage Voxpria webhook subscriptions.")
cli.add_lazy(
    "schedule",
    "dialer.cli.schedule:schedule",
    "Campaign files: campaigns that run by themselves on a schedule.",
)
cli.add_lazy(
    "run-scheduled",
    "dialer.cli.schedule:run_scheduled",
    "Run one day's run of campaign NAME of FILE in the foreground (for cron): its id is "
    "NAME-YYYY-MM-DD, so running it again resumes it and never calls a row twice.",
)
cli.add_lazy(
    "beat",
    "dialer.cli.schedule:beat",
    "Run the schedule of a campaign FILE on the cluster (REDIS_URL): each run starts at its "
    "local time, once however many beats run, and its report is written when it ends.",
)
cli.add_lazy(
    "export",
    "dialer.cli.schedule:export",
    "Gather the outcomes of scheduled campaign NAME's runs into one report.",
)


cli.add_lazy(
    "dnc", "dialer.cli.dnc:dnc", "The do-not-call list every campaign checks at dial time."
)
cli.add_lazy(
    "audit",
    "dialer.cli.audit:audit",
    "Write a campaign's attempt log: every POST /calls, when, in whose local time, and why.",
)
