"""Starting today's run from the page as a beat would (claims: fakeredis under the real Redis
claims), and what the page says of each run's claim."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import fakeredis
import pytest

from campaigns.schedule.schedule_file import load_schedule_file
from campaigns.store.sqlite_store import SqliteStore
from dialer.errors import InputError
from dialer.keys import RedisKeys
from dialer.run_claims import Claim, RedisRunClaims
from dialer.settings import Settings
from dialer.web.schedule_view import NO_BEAT, TodayStarter, campaign_views, cron_in_words
from tests.schedule_web_support import schedule_folder, store_past_runs, today_in

NOW = datetime.now(UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path / "state.db")
    yield store
    store.close()


def claims_pair() -> tuple[RedisRunClaims, RedisRunClaims]:
    client = fakeredis.FakeRedis(decode_responses=True)
    return RedisRunClaims(client, RedisKeys(), "beat-1"), RedisRunClaims(client, RedisKeys(), "web")


def test_the_page_starts_todays_run_once_and_a_beat_then_leaves_it(
    tmp_path: Path, store: SqliteStore
) -> None:
    scheduled = schedule_folder(tmp_path)
    file = load_schedule_file(scheduled.file)
    beat, web = claims_pair()
    resumed: list[str] = []
    starter = TodayStarter(file, store, Settings(home=tmp_path), web, resumed.append)
    cid = starter.start("reminders", NOW)
    assert resumed == [cid] and store.get_campaign(cid) is not None
    assert beat.state(cid) is Claim.STARTED and not beat.claim(cid)  # the beat will not start it
    with pytest.raises(InputError, match="has started already"):
        starter.start("reminders", NOW)
    assert resumed == [cid]


def test_a_run_the_beat_has_claimed_is_not_started_from_the_page(
    tmp_path: Path, store: SqliteStore
) -> None:
    scheduled = schedule_folder(tmp_path)
    file = load_schedule_file(scheduled.file)
    beat, web = claims_pair()
    cid = f"reminders-{today_in('America/New_York').isoformat()}"
    assert beat.claim(cid)
    resumed: list[str] = []
    starter = TodayStarter(file, store, Settings(home=tmp_path), web, resumed.append)
    with pytest.raises(InputError, match="a beat has claimed"):
        starter.start("reminders", NOW)
    assert resumed == [] and store.get_campaign(cid) is None


def test_a_failed_start_gives_the_claim_back(tmp_path: Path, store: SqliteStore) -> None:
    file = load_schedule_file(schedule_folder(tmp_path).file)
    beat, web = claims_pair()

    def refuse(cid: str) -> None:
        raise InputError("agent_demo is paused")

    with pytest.raises(InputError, match="paused"):
        TodayStarter(file, store, Settings(home=tmp_path), web, refuse).start("reminders", NOW)
    cid = f"reminders-{today_in('America/New_York').isoformat()}"
    assert beat.state(cid) is None and beat.claim(cid)  # the beat may start it later


def test_past_runs_say_whether_the_beat_claimed_them(tmp_path: Path, store: SqliteStore) -> None:
    scheduled = schedule_folder(tmp_path)
    store_past_runs(store, scheduled)
    file = load_schedule_file(scheduled.file)
    beat, _ = claims_pair()
    first_id, second_id = scheduled.past_ids
    assert beat.claim(first_id) and beat.settle(first_id, Claim.STARTING, Claim.STARTED)
    views = campaign_views(file, store, beat, NOW, lambda cid: {})
    beats = {r.campaign_id: r.beat for r in views[0].past_runs}
    assert beats == {first_id: "claimed: started", second_id: "not claimed: started by hand"}
    embedded = campaign_views(file, store, None, NOW, lambda cid: {})
    assert {r.beat for r in embedded[0].past_runs} == {NO_BEAT}
    assert [r.campaign_id for r in views[0].past_runs] == [second_id, first_id]  # newest first


def test_cron_in_words_falls_back_to_the_expression() -> None:
    assert cron_in_words("0 9 * * MON-FRI") == "At 09:00 AM, Monday through Friday"
    assert cron_in_words("@daily") == "At 12:00 AM"
    assert cron_in_words("0 9 * * 1 extra") == "0 9 * * 1 extra"


def test_the_schedule_file_setting() -> None:
    assert Settings.from_env({}).schedule_file is None
    chosen = Settings.from_env({"DIALER_SCHEDULE_FILE": " ops/campaigns.toml "})
    assert chosen.schedule_file == Path("ops/campaigns.toml")
