"""The `dialer` command line. Thin: it parses options, wires the parts, and prints.

Every DialerError becomes one message and its exit code (2 for input the user must fix);
nothing leaves as a traceback.
"""

from __future__ import annotations

import logging
import signal
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import click
from rich.console import Console

from campaigns.campaign import check_campaign_id, derive_campaign_id, open_campaign
from campaigns.contacts import ListOptions, open_contact_list
from campaigns.engine import Engine
from campaigns.plan import build_plan, format_plan
from campaigns.policy import DialPolicy, PollPolicy, parse_duration_s, parse_redial
from campaigns.report import ReportInfo, check_report_path, dry_run_rows, report_rows, write_report
from campaigns.runner import Progress, RunEnd, Runner, StopSignal
from campaigns.store import CampaignMeta, CampaignState, RowStatus, RowStore
from campaigns.windows import CallingWindow
from dialer.client import VoxpriaClient
from dialer.clock import SystemClock
from dialer.errors import ApiError, CampaignNotFound, DialerError, InputError
from dialer.progress import ProgressView, summary_table
from dialer.services import Services, open_services
from dialer.settings import Rate, Secret, Settings

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
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        Console(stderr=True).print("Stopped at once. Run the same command again to resume.")
        sys.exit(EXIT_INTERRUPTED)


@click.group(help="Bulk campaign dialer for the Voxpria voice-call API.")
@click.version_option(package_name="voxpria-dialer")
def cli() -> None:
    pass


def _setup_logging(verbose: bool) -> None:
    level = logging.DEBUG if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
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
@click.option("--dry-run", is_flag=True, help="Validate and plan; call nobody.")
@click.option("--detach", is_flag=True, help="Cluster mode: submit, print the id, return.")
@click.option(
    "--simulate",
    is_flag=True,
    help="Run against the built-in simulator, started in this process (no key needed).",
)
@click.option("--quiet", is_flag=True, help="Print only errors and the report's path.")
@click.option("--verbose", is_flag=True, help="Log every request and decision.")
def run(**opts: Any) -> None:
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
    window = CallingWindow.parse(opts["window"])
    agent_rate = Rate.parse(opts["rate"], name="--rate") if opts["rate"] else None
    policy = DialPolicy(
        agent_id=opts["agent_id"],
        agent_rate=agent_rate,
        max_active=opts["max_active"],
        window=window,
        redial=parse_redial(opts["redial"]),
        redial_after_s=parse_duration_s(opts["redial_after"], name="--redial-after"),
    )
    campaign_id = check_campaign_id(opts["campaign_id"]) if opts["campaign_id"] else None
    contacts = open_contact_list(
        contacts_path,
        ListOptions(
            phone_column=opts["phone_column"],
            region=opts["region"],
            variables=_split(opts["variables"]),
            timezone_column=opts["timezone_column"],
            suppress=opts["suppress"],
        ),
    )
    if opts["dry_run"]:
        _dry_run(console, contacts, policy, settings, report_path)
        return
    with _maybe_simulator(settings, opts["simulate"]) as (settings, poll):
        settings.require_api_key()
        policy = replace(policy, poll=poll)
        campaign_id = campaign_id or derive_campaign_id(contacts, policy.agent_id)
        _run_campaign(console, settings, contacts, policy, campaign_id, report_path, opts)


def _split(text: str | None) -> list[str] | None:
    return [part.strip() for part in text.split(",") if part.strip()] if text else None


def _dry_run(
    console: Console, contacts: Any, policy: DialPolicy, settings: Settings, report: Path
) -> None:
    clock = SystemClock()
    plan = build_plan(
        contacts.rows(),
        policy.window,
        clock.now(),
        settings.call_limit.per_s,
        settings.request_limit.per_s,
        policy.agent_rate.per_s if policy.agent_rate else None,
    )
    console.print(format_plan(plan), highlight=False)
    info = ReportInfo("", policy.agent_id, str(contacts.path), "dry run", None, None)
    write_report(report, list(contacts.headers), dry_run_rows(contacts.rows()), info)
    console.print(f"Nobody was called (dry run). Report: {report}", highlight=False)


@contextmanager
def _maybe_simulator(settings: Settings, simulate: bool) -> Iterator[tuple[Settings, PollPolicy]]:
    if not simulate:
        yield settings, PollPolicy()
        return
    from dialer.simulator import SimulatorConfig
    from dialer.simulator_server import running_simulator

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


def _preflight(console: Console, client: VoxpriaClient, agent_id: str, quiet: bool) -> None:
    agent = client.get_agent(agent_id)
    if not agent.is_active:
        raise InputError(
            f"--agent {agent_id}: the agent is {agent.status}, not active. Activate it in "
            "Voxpria or choose another agent."
        )
    credits = client.get_credits()
    if not quiet:
        balance = "unknown" if credits.balance is None else f"{credits.balance:g}"
        console.print(
            f"Agent {agent_id} ({agent.name or 'unnamed'}) is active; credit balance "
            f"{balance} {credits.currency or ''}".rstrip(),
            highlight=False,
        )
    if credits.balance is not None and credits.balance <= 0:
        console.print("[yellow]warning:[/] the credit balance is 0: calls may be refused.")


def _run_campaign(
    console: Console,
    settings: Settings,
    contacts: Any,
    policy: DialPolicy,
    campaign_id: str,
    report: Path,
    opts: dict[str, Any],
) -> None:
    clock = SystemClock()
    services = open_services(settings, clock)
    try:
        with services.client(clock) as client:
            _preflight(console, client, policy.agent_id, opts["quiet"])
            opened = open_campaign(services.store, campaign_id, contacts, policy, clock.now())
            meta = opened.meta
            if meta.state is CampaignState.FINISHED:
                _already_finished(console, services.store, meta, report, contacts.path)
                return
            if not opts["quiet"]:
                verb = "Resuming" if opened.resumed else "Starting"
                console.print(f"{verb} campaign {campaign_id}", highlight=False)
            try:
                if services.cluster:
                    end = _run_cluster(console, services, meta, opts)
                    if end is None:  # --detach
                        return
                else:
                    end = _run_embedded(console, services, client, meta, policy, opts["quiet"])
            except DialerError:
                _write(services.store, campaign_id, report)  # every row says where it stands
                console.print(f"Report: {report}", highlight=False)
                raise
        _finish(console, services.store, campaign_id, report, end, opts)
    finally:
        services.close()


def _callable_rows(store: RowStore, cid: str) -> int:
    not_callable = (RowStatus.INVALID, RowStatus.DUPLICATE, RowStatus.SUPPRESSED)
    return sum(n for s, n in store.counts(cid).items() if s not in not_callable)


def _run_cluster(
    console: Console, services: Services, meta: CampaignMeta, opts: dict[str, Any]
) -> RunEnd | None:
    from workers.submission import submit_campaign, workers_listening

    store, cid, clock = services.store, meta.campaign_id, SystemClock()
    submitted = submit_campaign(services, cid)
    if opts["detach"]:
        click.echo(cid)
        return None
    if submitted.worker_processes == 0:
        console.print(NO_WORKERS, highlight=False)
    view = ProgressView(console, _callable_rows(store, cid), quiet=opts["quiet"])
    stop = StopSignal()
    next_worker_check = clock.now() + 30
    try:
        with _sigint_stops(stop, console, store, cid):
            while True:
                current = store.get_campaign(cid)
                state = current.state if current else CampaignState.FAILED
                if stop.requested and state is CampaignState.RUNNING:
                    store.update_campaign(cid, state=CampaignState.STOPPING)
                if state not in (CampaignState.RUNNING, CampaignState.STOPPING):
                    break
                view.update(_cluster_progress(store, cid, clock.now()))
                if clock.now() >= next_worker_check:
                    next_worker_check = clock.now() + 30
                    if not workers_listening(services):
                        console.print(NO_WORKERS, highlight=False)
                clock.sleep(1.0)
    finally:
        view.close()
    if state is CampaignState.FAILED:
        reason = current.reason if current else "the campaign vanished from the store"
        raise ApiError(f"Campaign {cid} failed: {reason}")
    return RunEnd.FINISHED if state is CampaignState.FINISHED else RunEnd.STOPPED


NO_WORKERS = (
    "No worker is consuming the queue at REDIS_URL yet: the campaign waits for one. Start "
    "workers with `dialer worker` (same REDIS_URL and VOXPRIA_API_KEY), e.g. "
    "`docker compose up -d --scale worker=2`."
)


def _cluster_progress(store: RowStore, cid: str, now: float) -> Progress:
    counts = store.counts(cid)
    started = sum(n for s, n in counts.items() if s not in _NOT_STARTED)
    return Progress(counts, started, store.in_flight(cid), store.next_pending_at(cid), now)


_NOT_STARTED = (RowStatus.PENDING, RowStatus.INVALID, RowStatus.DUPLICATE, RowStatus.SUPPRESSED)


def _run_embedded(
    console: Console,
    services: Services,
    client: VoxpriaClient,
    meta: CampaignMeta,
    policy: DialPolicy,
    quiet: bool,
) -> RunEnd:
    clock = SystemClock()
    store, cid = services.store, meta.campaign_id
    engine = Engine(
        cid, policy, store, services.limiter, client, clock, f"embedded-{uuid.uuid4().hex[:8]}"
    )
    view = ProgressView(console, _callable_rows(store, cid), quiet=quiet)
    stop = StopSignal()
    try:
        with _sigint_stops(stop, console, store, cid):
            end = Runner(engine, clock, on_progress=view.update).run(stop)
    except DialerError as exc:
        store.update_campaign(
            cid, state=CampaignState.FAILED, reason=str(exc), ended_at=clock.now()
        )
        raise
    finally:
        view.close()
    state = CampaignState.FINISHED if end is RunEnd.FINISHED else CampaignState.STOPPED
    store.update_campaign(cid, state=state, ended_at=clock.now())
    return end


@contextmanager
def _sigint_stops(stop: StopSignal, console: Console, store: RowStore, cid: str) -> Iterator[None]:
    """Ctrl-C once: no new calls, live ones followed to their end. Twice: leave at once."""

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.requested:
            raise KeyboardInterrupt
        stop.request()
        console.print(
            f"\nStopping: no new calls; waiting for {store.in_flight(cid)} live calls to end. "
            "Press Ctrl-C again to leave at once.",
            highlight=False,
        )

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _write(store: RowStore, cid: str, report: Path) -> dict[str, int]:
    meta = store.get_campaign(cid)
    if meta is None:
        raise CampaignNotFound(f"No campaign {cid} in the store.")
    rows = report_rows(store.iter_rows(cid), meta.state)
    return write_report(report, meta.headers, rows, ReportInfo.from_meta(meta))


def _finish(
    console: Console, store: RowStore, cid: str, report: Path, end: RunEnd, opts: dict[str, Any]
) -> None:
    counts = _write(store, cid, report)
    if not opts["quiet"]:
        console.print(summary_table(counts, f"Campaign {cid}"))
    console.print(f"Report: {report}", highlight=False)
    if end is RunEnd.STOPPED:
        console.print(
            f"Stopped. To resume: dialer run {opts['contacts']} --agent {opts['agent_id']} "
            f"--campaign {cid}",
            highlight=False,
        )
        sys.exit(EXIT_INTERRUPTED)


def _already_finished(
    console: Console, store: RowStore, meta: CampaignMeta, report: Path, contacts: Path
) -> None:
    _write(store, meta.campaign_id, report)
    console.print(
        f"Campaign {meta.campaign_id} has already finished: nobody was called. Report written "
        f"again: {report}\nTo call the list again, give it a new id: dialer run {contacts} "
        f"--agent {meta.agent_id} --campaign {meta.campaign_id}-2",
        highlight=False,
    )


@cli.command(help="Write the outcome report of CAMPAIGN (from any machine that reaches the store).")
@click.argument("campaign_id")
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    required=True,
    help="The report's path, .csv or .xlsx.",
)
def report(campaign_id: str, out: Path) -> None:
    check_report_path(out)
    settings = Settings.from_env()
    services = open_services(settings, SystemClock())
    try:
        if services.store.get_campaign(campaign_id) is None:
            raise CampaignNotFound(_no_campaign(campaign_id, services))
        counts = _write(services.store, campaign_id, out)
    finally:
        services.close()
    Console().print(summary_table(counts, f"Campaign {campaign_id}"))
    Console().print(f"Report: {out}", highlight=False)


def _no_campaign(campaign_id: str, services: Services) -> str:
    where = "REDIS_URL" if services.cluster else f"the state folder {services.settings.home}"
    return (
        f"No campaign {campaign_id!r} in {where}. `dialer status` lists none by that id: check "
        "the id, DIALER_HOME and REDIS_URL."
    )


@cli.command(help="Print a campaign's progress; --wait returns when it ends.")
@click.argument("campaign_id")
@click.option("--wait", is_flag=True, help="Return only when the campaign has ended.")
def status(campaign_id: str, wait: bool) -> None:
    settings = Settings.from_env()
    clock = SystemClock()
    services = open_services(settings, clock)
    console = Console()
    try:
        store = services.store
        meta = store.get_campaign(campaign_id)
        if meta is None:
            raise CampaignNotFound(_no_campaign(campaign_id, services))
        while True:
            meta = store.get_campaign(campaign_id)
            assert meta is not None
            counts = {s.value: n for s, n in store.counts(campaign_id).items()}
            left = sum(counts.get(s, 0) for s in ("pending", "dialing", "active"))
            console.print(
                f"{campaign_id}: {meta.state.value}, {left} rows left | "
                + ", ".join(f"{s} {n}" for s, n in sorted(counts.items())),
                highlight=False,
            )
            if not wait or meta.state is not CampaignState.RUNNING or left == 0:
                break
            clock.sleep(2.0)
        if meta.reason:
            console.print(f"reason: {meta.reason}", highlight=False)
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
    from dialer.simulator import SimulatorConfig, serve

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
