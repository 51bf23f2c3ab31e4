"""The dry-run plan: what a run would do with a contact list, without calling anybody.

Counts by status (callable rows shown as `ready`), the time zones of the ready rows and when
each one's window next opens, and an estimated run time: ready rows divided by the effective
call rate, the least of the agent's rate, the account's call limit, and the account's request
limit over REQUESTS_PER_CALL. The estimate assumes the windows stay open; rows whose zones are
never all inside the window together within `windows.SEARCH_DAYS` are counted apart.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from campaigns.dialing.rule_counts import RuleOpening, RuleTally, rules_text
from campaigns.dialing.rules import CallingRules
from campaigns.dialing.windows import CallingWindow
from campaigns.lists.contacts import ContactList, ListOptions, open_contact_list
from campaigns.lists.list_pass import read_list
from campaigns.report.rows import dry_run_rows
from campaigns.report.summary_sheet import ReportInfo
from campaigns.report.writer import write_report
from campaigns.store.rows import NewRow, RowStatus
from dialer.durations import duration_text, rate_text

# One POST /calls per call, plus polling for its end: the batched poller reads many calls per
# list page, so about half a request per call on average (webhooks lower it further).
REQUESTS_PER_CALL = 1.5
_STATUS_ORDER = ("ready", "invalid", "duplicate", "suppressed")


@dataclass(frozen=True)
class ZoneOpening:
    zone: str
    ready_rows: int
    opens_at: float | None  # epoch s; the plan's `now` when open now, None if not within days


@dataclass(frozen=True)
class Plan:
    rows_read: int
    counts: dict[str, int]  # by report status: "ready", "invalid", "duplicate", "suppressed"
    zones: list[ZoneOpening]  # of ready rows, most rows first
    window: CallingWindow
    now: float
    rate_per_s: float  # the effective call rate
    limited_by: str  # which rate that is, in words
    estimated_run_s: float
    never_open_rows: int  # ready rows whose zones are never all inside the window together
    first_open_at: float | None = None  # when the first ready row may be called
    rules: list[RuleOpening] | None = None  # --rules: ready rows by governing rule


def effective_rate(
    call_rate_per_s: float, request_rate_per_s: float, agent_rate_per_s: float | None
) -> tuple[float, str]:
    """The call rate a run can keep, and which limit sets it."""
    rates = [
        (call_rate_per_s, "the account's call limit"),
        (request_rate_per_s / REQUESTS_PER_CALL, "the account's request limit"),
    ]
    if agent_rate_per_s is not None:
        rates.insert(0, (agent_rate_per_s, "this agent's --rate"))
    return min(rates, key=lambda rate: rate[0])


class PlanTally:
    """The plan's counts, taken row by row as the rows stream past (to the report or the
    store), so that the plan needs no pass of its own over the list."""

    def __init__(self, rules: CallingRules | None = None) -> None:
        self.statuses: Counter[str] = Counter()
        self.ready_by_zones: Counter[tuple[str, ...]] = Counter()
        self.rules = rules
        self.ready_by_rule = RuleTally()

    def add(self, row: NewRow) -> None:
        if row.status == RowStatus.PENDING:
            self.statuses[RowStatus.READY] += 1
            self.ready_by_zones[row.zones] += 1
            if self.rules is not None:
                self.ready_by_rule.add(self.rules, row)
        else:
            self.statuses[row.status] += 1

    def counted(self, rows: Iterable[NewRow]) -> Iterator[NewRow]:
        """`rows`, unchanged, each one counted as it passes."""
        add = self.add
        for row in rows:
            add(row)
            yield row

    def plan(
        self,
        window: CallingWindow,
        now: float,
        call_rate_per_s: float,
        request_rate_per_s: float,
        agent_rate_per_s: float | None = None,
    ) -> Plan:
        statuses, ready_by_zones = self.statuses, self.ready_by_zones
        # Windows are checked per distinct set of zones: a handful, whatever the row count.
        opens_by_zones = {zones: window.next_open(zones, now) for zones in ready_by_zones}
        ready_by_zone: Counter[str] = Counter()
        for zones, count in ready_by_zones.items():
            ready_by_zone.update(dict.fromkeys(zones, count))
        openings = [
            ZoneOpening(zone, count, window.next_open((zone,), now))
            for zone, count in ready_by_zone.most_common()
        ]
        rate_per_s, limited_by = effective_rate(
            call_rate_per_s, request_rate_per_s, agent_rate_per_s
        )
        ready = statuses[RowStatus.READY]
        known_opens = [t for t in opens_by_zones.values() if t is not None]
        return Plan(
            rows_read=sum(statuses.values()),
            counts={status: statuses[status] for status in _STATUS_ORDER} | dict(statuses),
            zones=openings,
            window=window,
            now=now,
            rate_per_s=rate_per_s,
            limited_by=limited_by,
            estimated_run_s=ready / rate_per_s if rate_per_s > 0 else float("inf"),
            never_open_rows=sum(n for z, n in ready_by_zones.items() if opens_by_zones[z] is None),
            first_open_at=min(known_opens, default=None),
            rules=self.ready_by_rule.openings(window, now) if self.rules is not None else None,
        )


def build_plan(
    rows: Iterable[NewRow],
    window: CallingWindow,
    now: float,
    call_rate_per_s: float,
    request_rate_per_s: float,
    agent_rate_per_s: float | None = None,
) -> Plan:
    tally = PlanTally()
    for row in rows:
        tally.add(row)
    return tally.plan(window, now, call_rate_per_s, request_rate_per_s, agent_rate_per_s)


def format_plan(plan: Plan) -> str:
    lines = [f"Dry run: nobody is called. {counted(plan.rows_read, 'row')} read."]
    width = max(len(status) for status in plan.counts)
    lines += [f"  {status:<{width}}  {count:>12,}" for status, count in plan.counts.items()]
    lines.append("")
    if plan.zones:
        lines.append(f"Time zones of ready rows (calling window {plan.window}, local time):")
        zone_width = max(len(z.zone) for z in plan.zones)
        for opening in plan.zones:
            when = _opening_text(opening, plan.now)
            lines.append(f"  {opening.zone:<{zone_width}}  {opening.ready_rows:>12,}  {when}")
    if plan.never_open_rows:
        lines.append(
            f"  {counted(plan.never_open_rows, 'ready row')} "
            f"{'has' if plan.never_open_rows == 1 else 'have'} zones that are never all inside "
            f"the window together: {'it' if plan.never_open_rows == 1 else 'they'} would end "
            "not_called."
        )
    if plan.rules is not None:
        lines += ["", rules_text(plan.rules, plan.now)]
    lines.append("")
    lines.append(f"Pace: {rate_text(plan.rate_per_s)}, set by {plan.limited_by}.")
    ready = plan.counts.get("ready", 0)
    lines.append(
        f"Estimated run time: {duration_text(plan.estimated_run_s)} for {counted(ready, 'call')}"
        + (", longer where windows close." if not plan.window.is_always_open else ".")
    )
    return "\n".join(lines)


def counted(count: int, noun: str) -> str:
    """`1 row`, `2 rows`, `1,000 calls`: the count and its noun, singular for one."""
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _opening_text(opening: ZoneOpening, now: float) -> str:
    if opening.opens_at is None:
        return "window never opens in the next days"
    if opening.opens_at <= now:
        return "open now"
    local = datetime.fromtimestamp(opening.opens_at, ZoneInfo(opening.zone))
    wait = duration_text(opening.opens_at - now)
    return f"opens in {wait} ({local:%a %H:%M} local)"


def plan_contact_list(
    path: Path,
    options: ListOptions,
    window: CallingWindow,
    call_rate_per_s: float,
    request_rate_per_s: float,
    agent_rate_per_s: float | None = None,
    now: float | None = None,
) -> Plan:
    """Open, read and plan a list in one go: the dry run without printing or a report."""
    contacts = open_contact_list(path, options)
    at = time.time() if now is None else now
    return build_plan(
        read_list(contacts), window, at, call_rate_per_s, request_rate_per_s, agent_rate_per_s
    )


def dry_run(
    contacts: ContactList,
    report: Path,
    info: ReportInfo,
    window: CallingWindow,
    now: float,
    call_rate_per_s: float,
    request_rate_per_s: float,
    agent_rate_per_s: float | None = None,
    *,
    csv_raw: bool = False,
    rules: CallingRules | None = None,
) -> Plan:
    """The dry run in one pass over the list: each row, as the report takes it, is counted
    for the plan. The report is written whole (or not at all) before the plan is returned."""
    tally = PlanTally(rules)
    rows = dry_run_rows(tally.counted(read_list(contacts)))
    write_report(report, list(contacts.headers), rows, info, csv_raw=csv_raw)
    return tally.plan(window, now, call_rate_per_s, request_rate_per_s, agent_rate_per_s)
