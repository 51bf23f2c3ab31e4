"""`dialer run --dry-run`: the plan printed, with what the contact history and the account's
credits say; nobody is called."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from dialer.settings import Settings

if TYPE_CHECKING:
    from rich.console import Console

    from campaigns.dialing.policy import DialPolicy
    from campaigns.lists.contacts import ContactList


def dry_run_plan(
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
