"""A draft: an uploaded list and the options chosen for it, planned but not started.

The new-campaign form makes one; the plan page reads it; Start turns it into a campaign. It is
kept on disk (DIALER_HOME/drafts/<id>.json) so that the plan survives a reload or a restart, and
so that Start needs nothing from the browser but the draft's id: what is started is exactly
what was planned.

`DraftOptions` holds the form's fields as typed; `policy()` hands them to the one place that
builds a run's options (campaigns.dial_options, as `dialer run`'s flags and a campaign file's
keys are), and `list_options()` to the list reader, so the same text means the same run from
any door.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

from campaigns.dial_options import DialOptions
from campaigns.dialing.campaign import check_campaign_id
from campaigns.dialing.policy import REDIAL_STATUSES, DialPolicy, PollPolicy
from campaigns.lists.contacts import ListOptions
from campaigns.store.history import DEFAULT_RECALL_AFTER_S
from dialer.durations import hours_text, parse_duration_s
from dialer.errors import InputError
from dialer.settings import Settings
from dialer.web.uploads import StoredFile, UploadFolder

DRAFTS_FOLDER = "drafts"
_DRAFT_ID = re.compile(r"^[0-9a-f]{32}$")
_DIGITS = re.compile(r"[0-9]{1,9}")
REDIAL_FIELDS = tuple(s.value for s in REDIAL_STATUSES)  # busy, no_answer, failed
MAX_REDIALS = 9
MAX_RECALL_DAYS = 365  # the contact history keeps a little more (campaigns.store.history)
RECALL_AFTER_DEFAULT = hours_text(DEFAULT_RECALL_AFTER_S)
# The CLI's parsers name their flag; on the page the field's label says more.
_FLAG_LABELS = {"--window": "Calling window", "--campaign": "Campaign id", "--rate": "Rate"}
_FIELD_NAMES = {"rate": "Rate", "redial_after": "Redial after", "recall_after": "Recall guard"}


@dataclass(frozen=True)
class DraftOptions:
    agent_id: str = ""
    rate: str = ""  # empty: the account's call limit
    max_active: str = "10"
    window: str = "08:00-21:00"
    redial: dict[str, str] = field(default_factory=lambda: dict.fromkeys(REDIAL_FIELDS, "0"))
    redial_after: str = "30m"
    region: str = "US"
    phone_column: str = ""
    campaign_id: str = ""
    recall_after: str = RECALL_AFTER_DEFAULT

    def policy(self, settings: Settings) -> DialPolicy:
        """The run's policy, as `dialer run` builds it; InputError names the field to fix."""
        if not self.agent_id.strip():
            raise InputError("Choose the agent that makes the calls.")
        try:
            max_active = _whole(self.max_active, "Calls at once", 1, 1000)
            redials = self._redials()
            recall_after_s(self.recall_after)  # the field's own bounds and message
            options = DialOptions(
                agent_id=self.agent_id.strip(),
                rate=self.rate if self.rate.strip() else None,
                max_active=max_active,
                window=self.window,
                redial=",".join(f"{status}={n}" for status, n in redials.items()),
                redial_after=self.redial_after,
                recall_after=self.recall_after,
                names=_FIELD_NAMES,
            )
            poll = PollPolicy(settings.poll_min_s, settings.poll_max_s)
            return options.policy(poll, settings.verify_after_s)
        except InputError as exc:
            raise InputError(_relabel(str(exc))) from None

    def list_options(self, suppress: Path | None) -> ListOptions:
        return ListOptions(
            phone_column=self.phone_column.strip() or None,
            region=self.region.strip().upper() or "US",
            suppress=suppress,
        )

    def chosen_campaign_id(self) -> str | None:
        text = self.campaign_id.strip()
        if not text:
            return None
        try:
            return check_campaign_id(text)
        except InputError as exc:
            raise InputError(_relabel(str(exc))) from None

    def _redials(self) -> dict[str, int]:
        counts = {
            status: _whole(self.redial.get(status, "0"), f"Redials if {status}", 0, MAX_REDIALS)
            for status in REDIAL_FIELDS
        }
        return {status: n for status, n in counts.items() if n}


def recall_after_s(text: str) -> float:
    """The Recall guard field: a duration (`20h`, `90m`, `1d`), `0` to turn the guard off."""
    wrong = InputError(
        f"Recall guard {text!r}: write how long after a call a number is not called again, "
        f"like 20h, 90m or 1d (at most {MAX_RECALL_DAYS} days), or 0 to turn the guard off."
    )
    try:
        value = parse_duration_s(text, name="Recall guard")
    except InputError:
        raise wrong from None
    if not math.isfinite(value) or value > MAX_RECALL_DAYS * 86400:
        raise wrong
    return value


def _whole(text: str, label: str, low: int, high: int) -> int:
    value = text.strip() or "0"
    # ASCII digits only: str.isdigit() takes '²', which int() refuses
    if not _DIGITS.fullmatch(value) or not low <= int(value) <= high:
        raise InputError(f"{label} {text!r}: write a whole number from {low} to {high}.")
    return int(value)


def _relabel(message: str) -> str:
    for flag, label in _FLAG_LABELS.items():
        message = message.replace(flag, label)
    return message


@dataclass(frozen=True)
class Draft:
    draft_id: str
    contacts: StoredFile
    suppression: StoredFile | None
    options: DraftOptions


class DraftFolder:
    def __init__(self, root: Path, uploads: UploadFolder) -> None:
        self.root = root
        self.uploads = uploads

    def save(
        self, contacts: StoredFile, suppression: StoredFile | None, options: DraftOptions
    ) -> Draft:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        draft = Draft(secrets.token_hex(16), contacts, suppression, options)
        data = {
            "contacts": contacts.file_id,
            "suppression": suppression.file_id if suppression else None,
            "options": asdict(options),
        }
        partial = self.root / f"{draft.draft_id}.json.tmp"
        partial.write_text(json.dumps(data), encoding="utf-8")
        os.replace(partial, self.root / f"{draft.draft_id}.json")
        return draft

    def mark_planned(self, draft: Draft) -> None:
        """The plan read the whole list within its deadline: Start may read it again."""
        (self.root / f"{draft.draft_id}.planned").touch()

    def is_planned(self, draft: Draft) -> bool:
        return (self.root / f"{draft.draft_id}.planned").exists()

    def mark_started(self, draft: Draft, campaign_id: str) -> None:
        """Started as `campaign_id`: the draft is kept (its plan and invalid rows can still be
        read) until that campaign has finished."""
        (self.root / f"{draft.draft_id}.started").write_text(campaign_id, encoding="utf-8")

    def started(self) -> list[tuple[str, str]]:
        """(draft id, campaign id) of every draft that was started."""
        found = []
        for marker in self.root.glob("*.started"):
            try:
                found.append((marker.stem, marker.read_text(encoding="utf-8").strip()))
            except OSError:
                continue
        return found

    def discard(self, draft: Draft) -> None:
        """The draft and its files go; the list's note of its name stays (it names the
        campaign in the list of campaigns)."""
        for suffix in (".json", ".planned", ".started"):
            (self.root / f"{draft.draft_id}{suffix}").unlink(missing_ok=True)
        self.uploads.discard(draft.contacts, keep_name=True)
        if draft.suppression is not None:
            self.uploads.discard(draft.suppression, keep_name=False)

    def get(self, draft_id: str) -> Draft:
        gone = InputError("This plan is gone (or the link is wrong): upload the list again.")
        if not _DRAFT_ID.fullmatch(draft_id):
            raise gone
        try:
            data = json.loads((self.root / f"{draft_id}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise gone from None
        suppression = data.get("suppression")
        return Draft(
            draft_id,
            self.uploads.get(str(data["contacts"])),
            self.uploads.get(str(suppression)) if suppression else None,
            DraftOptions(**data["options"]),
        )
