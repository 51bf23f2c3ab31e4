"""Files the page leaves in DIALER_HOME, removed once they are of no more use.

Uploaded lists hold people's names and numbers, so none is kept longer than it serves:
- once the campaign started from a draft has finished, the draft and its files go (the rows
  are in the store); only the upload's small note of the name it was given stays, to name the
  campaign in the list of campaigns;
- a draft never started, and its files, go once MAX_AGE_S old (a plan is read the same day);
- a report left in tmp/ by a download cut short goes once TMP_MAX_AGE_S old.
The sweep runs when the page starts, at every upload and when the campaigns are listed: a
directory listing and a campaign lookup per started draft, no more.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from campaigns.store.rows import CampaignState, RowStore
from dialer.errors import InputError
from dialer.web.drafts import DRAFTS_FOLDER, DraftFolder
from dialer.web.reports import TMP_FOLDER
from dialer.web.uploads import UPLOADS_FOLDER

MAX_AGE_S = 24 * 3600.0
TMP_MAX_AGE_S = 3600.0


def sweep(
    drafts: DraftFolder, store: RowStore, home: Path, now: float, max_age_s: float = MAX_AGE_S
) -> int:
    """Remove the drafts of finished campaigns, then what is older than its age limit;
    returns how many entries went."""
    removed = _finished_drafts(drafts, store)
    for path in _entries(home / DRAFTS_FOLDER):
        if _older(path, now, max_age_s):
            removed += _remove(path)
    for path in _entries(home / UPLOADS_FOLDER):
        if _older(path, now, max_age_s) and not _started_note(path):
            removed += _remove(path)
    for path in _entries(home / TMP_FOLDER):
        if _older(path, now, min(max_age_s, TMP_MAX_AGE_S)):
            removed += _remove(path)
    return removed


def _finished_drafts(drafts: DraftFolder, store: RowStore) -> int:
    removed = 0
    for draft_id, campaign_id in drafts.started():
        meta = store.get_campaign(campaign_id)
        if meta is not None and meta.state is not CampaignState.FINISHED:
            continue
        try:
            drafts.discard(drafts.get(draft_id))
        except InputError:  # half gone already: the age sweep takes the rest
            continue
        removed += 1
    return removed


def _entries(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except OSError:  # not made yet
        return []


def _older(path: Path, now: float, max_age_s: float) -> bool:
    try:
        return now - path.lstat().st_mtime > max_age_s
    except OSError:
        return False


def _started_note(path: Path) -> bool:
    """An upload's note of its name whose campaign was started: it names the campaign."""
    if path.suffix != ".json":
        return False
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("started") is True
    except (OSError, ValueError, AttributeError):
        return False


def _remove(path: Path) -> int:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
    return 1
