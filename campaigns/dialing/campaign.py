"""Starting a campaign from a contact list, or finding the one to resume.

A campaign's id names the run. By default it is derived from the list's content and the agent,
so running the same command again resumes the same campaign and never calls a row twice.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from campaigns.dialing.policy import DialPolicy
from campaigns.lists.contacts import ContactList
from campaigns.lists.list_pass import read_list
from campaigns.store.rows import CampaignMeta, CampaignState, NewRow, RowStore
from dialer.errors import CampaignNotFound, InputError


def derive_campaign_id(contacts: ContactList, agent_id: str) -> str:
    digest = hashlib.sha256(f"{contacts.fingerprint()}\n{agent_id}".encode()).hexdigest()
    stem = re.sub(r"[^a-z0-9]+", "-", contacts.path.stem.lower()).strip("-")[:40] or "list"
    return f"{stem}-{digest[:10]}"


def check_campaign_id(campaign_id: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", campaign_id):
        raise InputError(
            f"--campaign {campaign_id!r}: use letters, digits, '.', '_' and '-' "
            "(up to 100, starting with a letter or digit)."
        )
    return campaign_id


@dataclass(frozen=True)
class Opened:
    meta: CampaignMeta
    resumed: bool


def open_campaign(
    store: RowStore,
    campaign_id: str,
    contacts: ContactList,
    policy: DialPolicy,
    now: float,
    rows: Iterable[NewRow] | None = None,
) -> Opened:
    """Create the campaign with every row of the list, or return the stored one to resume.
    A resumed campaign dials with the options given now (rate, window, ...), but its rows and
    agent stay those it was created with. `rows` replaces the list's own rows (a scheduled run
    marks the numbers its memory skips)."""
    existing = store.get_campaign(campaign_id)
    if existing is None:
        meta = CampaignMeta(
            campaign_id=campaign_id,
            agent_id=policy.agent_id,
            source=str(contacts.path),
            headers=list(contacts.headers),
            settings={"policy": policy.to_json()},
            created_at=now,
            started_at=now,
        )
        if store.create_campaign(meta, read_list(contacts) if rows is None else rows):
            return Opened(meta, resumed=False)
        existing = store.get_campaign(campaign_id)
        if existing is None:  # pragma: no cover - created and deleted in between
            raise CampaignNotFound(f"Campaign {campaign_id} vanished while it was created.")
    if existing.agent_id != policy.agent_id:
        raise InputError(
            f"Campaign {campaign_id} calls with agent {existing.agent_id}, not "
            f"{policy.agent_id}: use --agent {existing.agent_id} to resume it, or a new "
            "--campaign to call the list with another agent."
        )
    if existing.state is not CampaignState.FINISHED:
        store.update_campaign(
            campaign_id,
            state=CampaignState.RUNNING,
            reason="",
            settings={"policy": policy.to_json()},
        )
        existing.state = CampaignState.RUNNING
    return Opened(existing, resumed=True)


def load_policy(meta: CampaignMeta) -> DialPolicy:
    policy = meta.settings.get("policy")
    if not isinstance(policy, dict):
        raise CampaignNotFound(f"Campaign {meta.campaign_id} has no dialing settings stored.")
    return DialPolicy.from_json(policy)
