"""The plan page's content: the dry run of `dialer run --dry-run`, plus what a page can show
that a terminal cannot (the first rows as read, the invalid rows with their reasons).

One pass over the list: the plan is built from the rows as they stream by, and the few rows the
page shows are picked off on the way, so a large list is read once and never held in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from campaigns.dialing.policy import DialPolicy
from campaigns.lists.contacts import ContactList, open_contact_list
from campaigns.plan import Plan, build_plan
from campaigns.store.history import HistoryReader
from campaigns.store.rows import NewRow, RowStatus
from dialer.settings import Settings
from dialer.web.drafts import Draft
from dialer.web.recall import RecentCalls, RecentCounter
from dialer.web.runs import campaign_id_for

INVALID_SHOWN = 50
PREVIEW_ROWS = 5


@dataclass(frozen=True)
class PlanView:
    plan: Plan
    policy: DialPolicy
    headers: list[str]
    phone_column: str
    preview: list[NewRow]  # the first rows, whatever their status
    invalid: list[NewRow]  # the first INVALID_SHOWN invalid rows
    recent: RecentCalls  # ready numbers some campaign called within the recall guard

    @property
    def invalid_total(self) -> int:
        return self.plan.counts.get(RowStatus.INVALID, 0)


def open_draft_list(draft: Draft) -> ContactList:
    suppress = draft.suppression.path if draft.suppression else None
    return open_contact_list(draft.contacts.path, draft.options.list_options(suppress))


def planned_campaign_id(draft: Draft) -> str:
    """The id Start gives the campaign: the one chosen, or derived as `dialer run` derives it
    (which reads the whole list: its content is part of the id)."""
    chosen = draft.options.chosen_campaign_id()
    if chosen:
        return chosen
    contacts = open_draft_list(draft)
    return campaign_id_for(contacts, draft.contacts.display_name, draft.options.agent_id.strip())


def plan_draft(
    draft: Draft,
    settings: Settings,
    now: float,
    history: HistoryReader,
    campaign_id: str = "",
) -> PlanView:
    """Raises InputError when the list or an option cannot be used (the page shows it).
    `history` is looked up for the ready numbers (those of `campaign_id` itself aside)."""
    policy = draft.options.policy(settings)
    contacts = open_draft_list(draft)
    preview: list[NewRow] = []
    invalid: list[NewRow] = []
    recent = RecentCounter(history, now, policy.recall_after_s, campaign_id)
    plan = build_plan(
        _sampled(contacts.rows(), preview, invalid, recent),
        policy.window,
        now,
        settings.call_limit.per_s,
        settings.request_limit.per_s,
        policy.agent_rate.per_s if policy.agent_rate else None,
    )
    phone_column = contacts.headers[contacts.phone_index]
    headers = list(contacts.headers)
    return PlanView(plan, policy, headers, phone_column, preview, invalid, recent.result())


def invalid_rows(draft: Draft) -> Iterator[NewRow]:
    """Every invalid row, streamed (for the page that lists them all)."""
    return (row for row in open_draft_list(draft).rows() if row.status == RowStatus.INVALID)


def _sampled(
    rows: Iterable[NewRow], preview: list[NewRow], invalid: list[NewRow], recent: RecentCounter
) -> Iterator[NewRow]:
    for row in rows:
        if row.status == RowStatus.PENDING and row.to_number:
            recent.add(row.to_number)
        if len(preview) < PREVIEW_ROWS:
            preview.append(row)
        if row.status == RowStatus.INVALID and len(invalid) < INVALID_SHOWN:
            invalid.append(row)
        yield row
