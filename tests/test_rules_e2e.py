"""Calling rules end to end (`dialer run --rules FILE`), against the simulator over real HTTP:
a list spanning zones, states, an area code and countries, with a rules file written around
the real time now, so that some rules are open and others shut (by their window, their days,
their dates). No call is made outside its rule, judged from the simulator's audit times in
each recipient's local time; the shut rows end `not_called` naming their rule; the dry run
counts rows by rule; the attempt log names the rule. Embedded, and on a cluster worker."""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from campaigns.store.redis_store import RedisStore
from campaigns.store.rows import RowStatus
from dialer.keys import RedisKeys
from dialer.settings import Secret
from dialer.simulator.config import AuditEntry
from tests.cli_support import DialerProcess, dialer_env, run_args, run_dialer, wait_until
from tests.cluster_support import Workers, cluster_env, dialer, own_database
from tests.simulator_server import StartSim, running_simulator

pytestmark = pytest.mark.integration
CID = "rules-e2e"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NY, LA, TORONTO = "America/New_York", "America/Los_Angeles", "America/Toronto"
LONDON, BERLIN = "Europe/London", "Europe/Berlin"


@dataclass(frozen=True)
class Group:
    rule: str  # the rule that governs these numbers
    numbers: tuple[str, ...]
    zone: str  # each number's one zone
    open_now: bool
    window: tuple[str, str] | None = None  # local HH:MM start, end; None: any hour
    days: tuple[str, ...] = DAYS
    no_calls_on: tuple[str, ...] = ()  # YYYY-MM-DD or MM-DD


def _local(zone: str, shift_h: float = 0.0) -> datetime:
    return datetime.now(ZoneInfo(zone)) + timedelta(hours=shift_h)


def _hhmm(moment: datetime) -> str:
    return f"{moment:%H:%M}"


def _numbers(prefix: str, n: int = 4) -> tuple[str, ...]:
    return tuple(f"{prefix}{i:02d}" for i in range(n))


def groups() -> list[Group]:
    """Shut groups first: the run meets (and holds back) them before it calls anybody."""
    ny_today, toronto_today = _local(NY).date(), _local(TORONTO).date()
    berlin_today = _local(BERLIN).date()
    not_today = tuple(
        d
        for d in DAYS
        if d not in {DAYS[toronto_today.weekday()], DAYS[(toronto_today.weekday() + 1) % 7]}
    )
    return [
        # shut by its window (it opens in 3 hours), though the country's is open
        Group(
            "US-FL", _numbers("+178655501"), NY, False, (_hhmm(_local(NY, 3)), _hhmm(_local(NY, 4)))
        ),
        # shut by its days: neither today nor tomorrow
        Group("CA-QC", _numbers("+151455501"), TORONTO, False, days=not_today),
        # shut by its dates: today (once) and tomorrow (every year)
        Group(
            "DE",
            _numbers("+493012345"),
            BERLIN,
            False,
            no_calls_on=(
                berlin_today.isoformat(),
                (berlin_today + timedelta(days=1)).isoformat()[5:],
            ),
        ),
        # open: an area code's own rule, limited to today and tomorrow, not yesterday
        Group(
            "+1-305",
            _numbers("+130555501"),
            NY,
            True,
            (_hhmm(_local(NY, -1)), _hhmm(_local(NY, 2))),
            days=(DAYS[ny_today.weekday()], DAYS[(ny_today.weekday() + 1) % 7]),
            no_calls_on=((ny_today - timedelta(days=1)).isoformat(),),
        ),
        # open: the country's rule, over two zones (its window holds now in both)
        Group(
            "US", _numbers("+121255501"), NY, True, (_hhmm(_local(LA, -1)), _hhmm(_local(NY, 2)))
        ),
        Group(
            "US", _numbers("+141555501"), LA, True, (_hhmm(_local(LA, -1)), _hhmm(_local(NY, 2)))
        ),
        # open: the default rule (no GB rule)
        Group(
            "default",
            _numbers("+4420794601"),
            LONDON,
            True,
            (_hhmm(_local(LONDON, -1)), _hhmm(_local(LONDON, 2))),
        ),
    ]


def write_rules(path: Path, all_groups: list[Group]) -> Path:
    lines = ["# written by tests/test_rules_e2e.py around the time it runs"]
    seen = set()
    for g in all_groups:
        if g.rule in seen:
            continue
        seen.add(g.rule)
        lines.append("[default]" if g.rule == "default" else f'[rules."{g.rule}"]')
        lines.append(f'window = "{g.window[0]}-{g.window[1]}"' if g.window else 'window = "any"')
        lines.append("days = [" + ", ".join(f'"{d}"' for d in g.days) + "]")
        lines.append("no_calls_on = [" + ", ".join(f'"{d}"' for d in g.no_calls_on) + "]")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_list(path: Path, all_groups: list[Group]) -> Path:
    rows = [f"{g.rule} {i},{n}" for g in all_groups for i, n in enumerate(g.numbers)]
    path.write_text("name,phone\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def inside(group: Group, at_s: float) -> bool:
    """The rule, judged here on its own: the call's local time, day and date in its zone."""
    local = datetime.fromtimestamp(at_s, ZoneInfo(group.zone))
    if DAYS[local.weekday()] not in group.days:
        return False
    if local.date().isoformat() in group.no_calls_on or f"{local:%m-%d}" in group.no_calls_on:
        return False
    if group.window is None:
        return True
    start, end, now = group.window[0], group.window[1], _hhmm(local)
    return start <= now < end if start < end else (now >= start or now < end)


def check_audit(audit: list[AuditEntry], all_groups: list[Group]) -> None:
    by_number = {n: g for g in all_groups for n in g.numbers}
    called = {e.to_number for e in audit}
    assert called == {n for g in all_groups if g.open_now for n in g.numbers}
    assert len(audit) == len(called)  # each once
    for entry in audit:
        assert inside(by_number[entry.to_number], entry.created_s), entry


@pytest.fixture()
def rules_case(tmp_path: Path) -> tuple[list[Group], Path, Path]:
    """The open windows run from an hour before now to two hours after it, the shut ones
    open three hours on, and shut days and dates cover today and tomorrow: a test of a few
    minutes started at any moment (midnight included) sees each group as written."""
    all_groups = groups()
    return (
        all_groups,
        write_rules(tmp_path / "rules.toml", all_groups),
        write_list(tmp_path / "people.csv", all_groups),
    )


def test_embedded_no_call_outside_its_rule_and_the_plan_counts_rows_by_rule(
    tmp_path: Path, api_key: str, start_sim: StartSim, rules_case: tuple[list[Group], Path, Path]
) -> None:
    all_groups, rules, people = rules_case
    sim = start_sim(speed=600.0, outcome_weights={"completed": 1.0})
    env = dialer_env(tmp_path / "home", base_url=sim.base_url, api_key=api_key)
    report = tmp_path / "people.outcomes.csv"

    plan = run_dialer(
        [*run_args(people, tmp_path / "plan.csv", "--rules", str(rules)), "--dry-run"], env
    )
    assert plan.returncode == 0, plan.output
    plan_lines = plan.stdout.splitlines()
    header = "Calling rules of ready rows (with --window, in each one's local time):"
    first = plan_lines.index(header)
    by_rule = {}
    for line in plan_lines[first + 1 :]:
        if not line.startswith("  "):
            break
        name, count, _, when = line.split(maxsplit=3)
        by_rule[name] = (int(count), when.split(" (")[0].split(" in ")[0])
    assert by_rule == {
        "US": (8, "open now"),
        "US-FL": (4, "opens"),
        "CA-QC": (4, "opens"),
        "DE": (4, "opens"),
        "+1-305": (4, "open now"),
        "default": (4, "open now"),
    }

    opened = sum(len(g.numbers) for g in all_groups if g.open_now)
    run = DialerProcess.start(
        run_args(people, report, "--rules", str(rules), "--campaign", CID, "--recall-after", "0"),
        env,
    )
    try:
        wait_until(
            lambda: len(sim.sim.audit()) >= opened, timeout_s=60, what="the open rows' calls"
        )
        run.interrupt()  # the shut rows would wait for hours: stop, the live calls followed
        done = run.wait()
    finally:
        run.ensure_stopped()
    assert done.returncode == 130, done.output
    check_audit(sim.sim.audit(), all_groups)

    with report.open(encoding="utf-8-sig") as f:
        rows = {r["phone"]: r for r in csv.DictReader(f)}
    for group in all_groups:
        for number in group.numbers:
            row = rows[number]
            if group.open_now:
                assert row["status"] == "completed", row
            else:
                assert row["status"] == "not_called", row
                assert row["error"].startswith(f"outside calling rule {group.rule} ("), row

    attempts = tmp_path / "attempts.csv"
    audit = run_dialer(["audit", CID, "--out", str(attempts)], env)
    assert audit.returncode == 0, audit.output
    with attempts.open(encoding="utf-8-sig") as f:
        lines = list(csv.DictReader(f))
    rule_of = {n: g for g in all_groups for n in g.numbers}
    assert len(lines) == opened
    for entry in lines:
        group = rule_of[entry["to_number"]]
        assert entry["rule"] == group.rule
        assert entry["window"].startswith(f"{group.window[0]}-{group.window[1]}")  # type: ignore[index]


def test_a_cluster_worker_holds_back_rows_outside_their_rule(
    tmp_path: Path, api_key: str, rules_case: tuple[list[Group], Path, Path]
) -> None:
    all_groups, rules, people = rules_case
    opened = sum(len(g.numbers) for g in all_groups if g.open_now)
    with (
        own_database() as client,
        running_simulator(
            api_key=Secret(api_key), speed=600.0, call_limit=None, request_limit=None
        ) as sim,
    ):
        env = cluster_env(sim.base_url, api_key, tmp_path)
        workers = Workers(env, tmp_path)
        workers.start(1)
        store = RedisStore(client, RedisKeys())
        try:
            args = run_args(people, tmp_path / "out.csv", "--rules", str(rules), "--campaign", CID)
            done = dialer([*args, "--recall-after", "0", "--detach"], env)
            assert done.returncode == 0, done.stderr

            def settled() -> bool:
                rows = list(store.iter_rows(CID))
                shut = [r for r in rows if r.status is RowStatus.PENDING]
                return len(sim.sim.audit()) >= opened and all(r.error for r in shut) and bool(shut)

            wait_until(settled, timeout_s=90, what="the open rows called, the shut ones held")
        finally:
            workers.stop_all()
        check_audit(sim.sim.audit(), all_groups)
        shut = {n: g for g in all_groups if not g.open_now for n in g.numbers}
        for row in store.iter_rows(CID):
            if row.to_number in shut:
                assert row.status is RowStatus.PENDING and row.not_before > time.time() + 60
                assert row.error.startswith(f"outside calling rule {shut[row.to_number].rule} (")


def test_dialer_max_calls_is_the_default_cap(
    tmp_path: Path, api_key: str, start_sim: StartSim
) -> None:
    sim = start_sim(speed=600.0, outcome_weights={"completed": 1.0})
    env = dialer_env(
        tmp_path / "home", base_url=sim.base_url, api_key=api_key, DIALER_MAX_CALLS="1/7d"
    )
    people = tmp_path / "people.csv"
    people.write_text("name,phone\nA,+14155550100\nB,+14155550101\n", encoding="utf-8")
    for k in range(2):
        done = run_dialer(
            run_args(people, tmp_path / f"r{k}.csv", "--recall-after", "0", "--campaign", f"c{k}"),
            env,
        )
        assert done.returncode == 0, done.output
    assert sorted(e.to_number for e in sim.sim.audit()) == ["+14155550100", "+14155550101"]
    with (tmp_path / "r1.csv").open(encoding="utf-8-sig") as f:
        errors = {r["error"] for r in csv.DictReader(f)}
    assert errors == {"already called 1 times within 7d (--max-calls 1/7d)"}
