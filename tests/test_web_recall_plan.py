"""The plan's recall summary without a server: both stores, batches bounded, a resumed
campaign's own calls left out, a history that cannot be read said on the plan (which still
shows), and the Recall guard field's reader."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from campaigns.store.history import DEFAULT_RECALL_AFTER_S, DialGuard, HistoryEntry
from campaigns.store.rows import CampaignMeta, NewRow, RowStatus, RowStore
from campaigns.store.sqlite_store import SqliteStore
from dialer.errors import InputError
from dialer.settings import Secret, Settings
from dialer.web.drafts import Draft, DraftFolder, DraftOptions, recall_after_s
from dialer.web.planning import plan_draft
from dialer.web.recall import BATCH, HistorySource, OpenHistory
from dialer.web.uploads import UploadFolder
from tests.redis_support import (
    STORE_KINDS,
    MakeStore,
    store_params,
)

NOW = 1_800_000_000.0
CALLED = [f"+1415555{i:04d}" for i in range(1200)]  # more than two batches
FRESH = ["+12025550100", "+12025550101"]


@pytest.fixture(params=store_params(*STORE_KINDS))
def store(request: pytest.FixtureRequest, make_store: MakeStore) -> RowStore:
    return make_store(request.param, account="acct1")


def _called(store: RowStore, cid: str, numbers: list[str], at: float) -> None:
    rows = [
        NewRow(idx=i, cells=[n], to_number=n, status=RowStatus.PENDING)
        for i, n in enumerate(numbers)
    ]
    assert store.create_campaign(CampaignMeta(cid, "agent_1", "l.csv", ["phone"], {}), rows)
    guard = DialGuard(DEFAULT_RECALL_AFTER_S, cid, "agent_1")
    while claimed := store.claim(cid, "w1", at, 30, limit=500):
        for row in claimed:
            assert store.begin_dial(cid, row.idx, "w1", at, 30, 10**6, guard) is not None


def _draft(tmp_path: Path, numbers: list[str], **options: str) -> Draft:
    uploads = UploadFolder(tmp_path / "uploads")
    text = "name,phone\n" + "".join(f"P{i},{n}\n" for i, n in enumerate(numbers))
    stored = uploads.save(io.BytesIO(text.encode()), "contacts.csv")
    chosen = DraftOptions(agent_id="agent_1", window="any", **options)
    return DraftFolder(tmp_path / "drafts", uploads).save(stored, None, chosen)


def _settings(tmp_path: Path) -> Settings:
    return Settings(api_key=Secret(""), home=tmp_path / "home")


class Counting:
    """The store, its look-ups counted: the plan asks at most BATCH numbers at once."""

    def __init__(self, store: RowStore) -> None:
        self.store = store
        self.sizes: list[int] = []

    def recent_calls(self, numbers: list[str], since: float) -> list[HistoryEntry]:
        self.sizes.append(len(numbers))
        return self.store.recent_calls(numbers, since)


def test_the_plan_counts_recent_numbers_by_campaign_in_bounded_batches(
    store: RowStore, tmp_path: Path
) -> None:
    _called(store, "contacts-ab12", CALLED[:1000], NOW - 3600)
    _called(store, "other-list", CALLED[1000:], NOW - 60)
    _called(store, "long-ago", FRESH, NOW - DEFAULT_RECALL_AFTER_S - 60)
    reader = Counting(store)
    view = plan_draft(_draft(tmp_path, CALLED + FRESH), _settings(tmp_path), NOW, reader)
    assert view.recent.error == ""
    assert view.recent.summary.numbers == 1200
    assert view.recent.campaigns == [("contacts-ab12", 1000), ("other-list", 200)]
    assert sum(reader.sizes) == 1202 and max(reader.sizes) <= BATCH


def test_a_resumed_campaigns_own_calls_are_not_recalls(store: RowStore, tmp_path: Path) -> None:
    _called(store, "mine", CALLED[:10], NOW - 60)
    _called(store, "theirs", CALLED[10:12], NOW - 60)
    view = plan_draft(_draft(tmp_path, CALLED[:12]), _settings(tmp_path), NOW, store, "mine")
    assert view.recent.campaigns == [("theirs", 2)]


def test_recall_guard_0_looks_nothing_up(store: RowStore, tmp_path: Path) -> None:
    _called(store, "a", CALLED[:5], NOW - 60)
    reader = Counting(store)
    draft = _draft(tmp_path, CALLED[:5], recall_after="0")
    view = plan_draft(draft, _settings(tmp_path), NOW, reader)
    assert view.policy.recall_after_s == 0
    assert view.recent.summary.numbers == 0 and reader.sizes == []


def test_a_history_that_cannot_be_read_is_said_and_the_plan_still_shows(tmp_path: Path) -> None:
    not_a_file = tmp_path / "a-folder"
    not_a_file.mkdir()
    with OpenHistory(HistorySource("acct1", sqlite_path=not_a_file)) as history:
        view = plan_draft(_draft(tmp_path, FRESH), _settings(tmp_path), NOW, history)
    assert view.plan.counts.get("ready") == 2
    assert view.recent.error.startswith("The contact history could not be read (")
    assert "Start still checks every number" in view.recent.error


def test_history_source_reads_the_pages_own_store(tmp_path: Path) -> None:
    page_store = SqliteStore(tmp_path / "state.sqlite", account="acct1")
    try:
        _called(page_store, "contacts-ab12", CALLED[:3], NOW - 60)
        source = HistorySource("acct1", sqlite_path=page_store.path)
        with OpenHistory(source) as history:  # as the plan's child opens it
            view = plan_draft(_draft(tmp_path, CALLED[:3]), _settings(tmp_path), NOW, history)
    finally:
        page_store.close()
    assert view.recent.campaigns == [("contacts-ab12", 3)]


@pytest.mark.parametrize(
    ("text", "seconds"), [("20h", 72000.0), ("0", 0.0), ("90m", 5400.0), (" 1d ", 86400.0)]
)
def test_recall_guard_field_reads_durations(text: str, seconds: float) -> None:
    assert recall_after_s(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "-1h", "inf", "nan", "366d", "1e400"])
def test_recall_guard_field_refuses_what_is_not_a_duration(text: str) -> None:
    with pytest.raises(InputError, match="or 0 to turn the guard off"):
        recall_after_s(text)


def test_the_form_default_is_the_history_default() -> None:
    assert recall_after_s(DraftOptions().recall_after) == DEFAULT_RECALL_AFTER_S
