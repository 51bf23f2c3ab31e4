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
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from click.core import ParameterSource

from campaigns.store.history import DEFAULT_RECALL_AFTER_S
from dialer import __version__
from dialer.cli.lazy import LazyGroup
from dialer.durations import hours_text
from dialer.errors import CampaignNotFound, DialerError, InputError
from dialer.settings import Rate, Secret, Settings

# Each command imports what it needs when it runs (pandas-free, but openpyxl, phonenumbers,
# httpx, redis, rich and the engine cost a second of start-up): `dialer --help` stays quick.
if TYPE_CHECKING:
    from rich.console import Console

    from campaigns.backends import Services
    from campaigns.dial_options import DialOptions
    from campaigns.dialing.policy import DialPolicy, PollPolicy
    from campaigns.lists.contacts import ContactList
    from campaigns.store.rows import RowStore

EXIT_INTERRUPTED = 130
STATUS_OUTAGE_S = 30.0  # `dialer status` without --wait waits this long for Redis to come back
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
        _dry_run(console, contacts, policy, settings, report_path, opts["csv_raw"])
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


def _dry_run(
    console: Console,
    contacts: ContactList,
    policy: DialPolicy,
    settings: Settings,
    report: Path,
    csv_raw: bool,
) -> None:
    from campaigns.plan import dry_run, format_plan
    from campaigns.report.summary_sheet import ReportInfo
    from dialer.cli.console import say
    from dialer.clock import SystemClock

    now = SystemClock().now()
    info = ReportInfo("", policy.agent_id, str(contacts.path), "dry run", None, None)
    plan = dry_run(
        contacts,
        report,
        info,
        policy.window,
        now,
        settings.call_limit.per_s,
        settings.request_limit.per_s,
        policy.agent_rate.per_s if policy.agent_rate else None,
        csv_raw=csv_raw,
        rules=policy.rules,
    )
    say(console, f"List: {contacts.reading_note}")
    say(console, format_plan(plan))
    say(console, _recent_calls_text(contacts, policy, settings, now))
    say(console, _balance_text(settings, policy))
    say(console, f"Nobody was called (dry run). Report: {report}")


def _balance_text(settings: Settings, policy: DialPolicy) -> str:
    from campaigns.dialing.spend import balance_text
    from dialer.voxpria.client import Timeouts, VoxpriaClient

    if not settings.api_key:
        return balance_text(None, policy.min_balance)
    timeouts = Timeouts(read_s=settings.http_read_timeout_s)
    with VoxpriaClient(settings.base_url, settings.api_key, timeouts=timeouts) as client:
        return balance_text(client, policy.min_balance)


def _recent_calls_text(
    contacts: ContactList, policy: DialPolicy, settings: Settings, now: float
) -> str:
    """What the contact history says of the list's numbers (the recall guard), read without
    creating any state: a state folder that does not exist yet has no history."""
    from campaigns.backends import STATE_FILE, open_services
    from campaigns.store.history import summarize_recent
    from campaigns.store.rows import RowStatus
    from dialer.clock import SystemClock

    if settings.redis_url is None and not (settings.home / STATE_FILE).exists():
        return summarize_recent([], _NoHistory(), now, policy.recall_after_s).text()
    services = open_services(settings, SystemClock())
    try:
        numbers = (r.to_number for r in contacts.rows() if r.status is RowStatus.PENDING)
        return summarize_recent(numbers, services.store, now, policy.recall_after_s).text()
    finally:
        services.close()


class _NoHistory:
    def recent_calls(self, numbers: list[str], since: float) -> list[Any]:
        return []


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


@cli.command(help="Write the outcome report of CAMPAIGN (from any machine that reaches the store).")
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
            raise CampaignNotFound(_no_campaign(campaign_id, services))
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


def _no_campaign(campaign_id: str, services: Services) -> str:
    where = "REDIS_URL" if services.cluster else f"the state folder {services.settings.home}"
    return (
        f"No campaign {campaign_id!r} in {where}. `dialer status` lists none by that id: check "
        "the id, DIALER_HOME and REDIS_URL."
    )


@cli.command(
    help="Print a campaign's progress (without CAMPAIGN: every running one) and, in cluster "
    "mode, the workers consuming shifts; --wait returns when CAMPAIGN ends."
)
@click.argument("campaign_id", required=False)
@click.option("--wait", is_flag=True, help="Return only when the campaign has ended.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (for scripts).")
def status(campaign_id: str | None, wait: bool, as_json: bool) -> None:
    from rich.console import Console

    from campaigns.backends import open_services
    from campaigns.service.outages import through_outages
    from campaigns.store.rows import LEFT_TO_DO, CampaignMeta, CampaignState
    from dialer.cli.console import say
    from dialer.cli.status import status_view
    from dialer.clock import SystemClock

    settings = Settings.from_env()
    clock = SystemClock()
    services = open_services(settings, clock)
    console = Console()
    try:
        store = services.store
        meta = store.get_campaign(campaign_id) if campaign_id else None
        if campaign_id and meta is None:
            raise CampaignNotFound(_no_campaign(campaign_id, services))
        if as_json or campaign_id is None:
            for line in status_view(services, clock, campaign_id, wait, as_json):
                say(console, line)
            return
        cid: str = campaign_id

        def look() -> tuple[CampaignMeta, int]:
            meta = store.get_campaign(cid)
            if meta is None:
                raise CampaignNotFound(_no_campaign(cid, services))
            counts = {s.value: n for s, n in store.counts(cid).items()}
            left = sum(counts.get(s, 0) for s in LEFT_TO_DO)
            say(
                console,
                f"{cid}: {meta.state.value}, {left} rows left | "
                + ", ".join(f"{s} {n}" for s, n in sorted(counts.items())),
            )
            return meta, left

        on_stderr = partial(say, Console(stderr=True))
        while True:
            # a Redis outage is waited out (said once); without --wait, for a while only
            meta, left = through_outages(look, on_stderr, clock, None if wait else STATUS_OUTAGE_S)
            if not wait or meta.state is not CampaignState.RUNNING or left == 0:
                break
            clock.sleep(2.0)
        if meta.reason:
            say(console, f"reason: {meta.reason}")
        if services.cluster:
            for line in status_view(services, clock, campaign_id, False, False, workers_only=True):
                say(console, line)
    finally:
        services.close()


@cli.command(help="Serve the built-in Voxpria simulator at http://127.0.0.1:PORT/api/v1.")
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


@cli.command(help="Start a cluster worker (a Celery worker on REDIS_URL).")
@click.option("--concurrency", type=int, default=None, help="Worker processes (default: cores).")
@click.option("--loglevel", default="INFO", show_default=True)
def worker(concurrency: int | None, loglevel: str) -> None:
    from workers.app import run_worker

    settings = Settings.from_env()
    if settings.redis_url is None:
        raise InputError("REDIS_URL is not set: a worker serves the cluster mode; set REDIS_URL.")
    run_worker(settings, concurrency=concurrency, loglevel=loglevel)


# Commands of other modules, imported when they run; the line is what `dialer --help` lists.
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


@cli.command(help="Check the account and the API before a first campaign.")
@click.option("--agent", "agent_id", help="Also check this agent.")
def doctor(agent_id: str | None) -> None:
    from rich.console import Console

    from dialer.cli.console import say
    from dialer.cli.doctor import RELIES_ON, Level, examine
    from dialer.clock import SystemClock
    from dialer.voxpria.client import Timeouts, VoxpriaClient

    settings = Settings.from_env()
    settings.require_api_key()
    console, clock = Console(), SystemClock()
    worst = Level.OK
    timeouts = Timeouts(read_s=settings.http_read_timeout_s)
    with VoxpriaClient(settings.base_url, settings.api_key, timeouts=timeouts) as client:
        for finding in examine(client, agent_id, clock.now()):
            say(console, finding.line())
            worst = Level.FAIL if Level.FAIL in (worst, finding.level) else worst
    say(console, RELIES_ON)
    if worst is Level.FAIL:
        sys.exit(1)


cli.add_lazy(
    "dnc", "dialer.cli.dnc:dnc", "The do-not-call list every campaign checks at dial time."
)
cli.add_lazy(
    "audit",
    "dialer.cli.audit:audit",
    "Write a campaign's attempt log: every POST /calls, when, in whose local time, and why.",
)
