"""Opening a campaign for a run: created with every row of its list, or the stored one resumed;
a finished one is left as it is, with an unused id to call the list again under."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from campaigns.dialing.campaign import open_campaign
from campaigns.dialing.policy import DialPolicy
from campaigns.lists.contacts import ContactList
from campaigns.store.rows import CampaignMeta, CampaignState, NewRow, RowStore


@dataclass(frozen=True)
class CampaignRequest:
    """A campaign to open: its id, list and policy. `rows` replaces the list's own rows (a
    scheduled run marks the numbers its memory skips); it is read when the run is stored."""

    campaign_id: str
    contacts: ContactList
    policy: DialPolicy
    rows: Callable[[], Iterable[NewRow]] | None = None


@dataclass(frozen=True)
class Opened:
    meta: CampaignMeta
    resumed: bool
    # Already finished: nothing was changed or called; `new_id` is an unused id to call the
    # list again under ("" otherwise).
    new_id: str = ""

    @property
    def already_finished(self) -> bool:
        return self.meta.state is CampaignState.FINISHED


def open_request(store: RowStore, request: CampaignRequest, now: float) -> Opened:
    """Create the campaign (every row of its list) or resume the stored one with the policy
    given now; a finished one is left as it is (`Opened.already_finished`)."""
    rows = request.rows() if request.rows else None
    opened = open_campaign(store, request.campaign_id, request.contacts, request.policy, now, rows)
    return opened_as(store, opened.meta, opened.resumed)


def opened_as(store: RowStore, meta: CampaignMeta, resumed: bool) -> Opened:
    if meta.state is CampaignState.FINISHED:
        return Opened(meta, resumed, unused_campaign_id(store, meta.campaign_id))
    return Opened(meta, resumed)


def unused_campaign_id(store: RowStore, campaign_id: str) -> str:
    n = 2
    while store.get_campaign(f"{campaign_id}-{n}") is not None:
        n += 1
    return f"{campaign_id}-{n}"
