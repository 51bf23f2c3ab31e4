"""A store that cannot be used says so as a StoreError that says what to do (never a sqlite3 or
redis exception): the CLI, the page, the runs and the workers catch the project's errors only."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from campaigns.store.redis_store import RedisStore
from campaigns.store.sqlite_store import SqliteStore
from dialer.errors import StoreError
from dialer.keys import RedisKeys


def test_a_broken_state_file_is_a_store_error_naming_dialer_home(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.sqlite")
    store.close()  # every call now fails, as a broken disk would
    with pytest.raises(StoreError, match="DIALER_HOME") as failed:
        store.list_campaigns()
    assert isinstance(failed.value.__cause__, sqlite3.Error)
    with pytest.raises(StoreError, match="DIALER_HOME"):
        list(store.iter_rows("camp"))  # a generator fails where it is read


def test_an_unreachable_redis_is_a_store_error_naming_redis_url() -> None:
    no_retry = Retry(NoBackoff(), 0)
    client = redis.Redis(host="127.0.0.1", port=1, retry=no_retry, decode_responses=True)
    store = RedisStore(client, RedisKeys())
    with pytest.raises(StoreError, match="REDIS_URL") as failed:
        store.get_campaign("camp")
    assert isinstance(failed.value.__cause__, redis.RedisError)
    with pytest.raises(StoreError, match="REDIS_URL"):
        list(store.iter_rows("camp"))


def test_a_store_error_raised_on_purpose_and_other_errors_leave_as_they_are(
    tmp_path: Path,
) -> None:
    store = SqliteStore(tmp_path / "state.sqlite")
    try:
        (tmp_path / "state.sqlite").unlink()
        with pytest.raises(StoreError, match="was deleted or replaced"):
            store.check_intact()  # its own message, not the generic one
        with pytest.raises(TypeError):
            store.get_campaign()  # type: ignore[call-arg]
    finally:
        store.close()


def test_a_transaction_an_interrupt_left_open_does_not_stop_the_next_write(
    tmp_path: Path,
) -> None:
    """Ctrl-C twice can land between a write's BEGIN and its COMMIT: the run then records that
    it left at once, and that write (and every later one) must still go through."""
    from campaigns.store.dnc import DncEntry

    store = SqliteStore(tmp_path / "state.sqlite")
    store._db.execute("BEGIN IMMEDIATE")  # what the interrupted write left behind
    assert store.dnc_add([DncEntry("+12125550100", "opted out", 1.0)]) == 1
    assert store.dnc_get("+12125550100") is not None
    assert not store._db.in_transaction


def test_a_state_file_that_is_not_a_database_says_move_it_aside(tmp_path: Path) -> None:
    """Not 'check that the folder is writable' (it is): the file is someone else's or broken."""
    path = tmp_path / "campaigns.sqlite"
    path.write_bytes(b"these bytes were never a SQLite database, " * 4)
    with pytest.raises(StoreError) as refused:
        SqliteStore(path)
    message = str(refused.value)
    assert str(path) in message and "is damaged or is not the dialer's" in message
    assert "move it aside" in message and "writable" not in message
