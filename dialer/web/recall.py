"""The plan's word on the recall guard: how many of the list's ready numbers some campaign
called within it (they will end `suppressed` at dial time), and which campaigns called them.

The plan runs in a child process that is given no API key, so it cannot open the store as
`open_services` does (the key tags the account). The page's process hands it a `HistorySource`
instead: where its store is and the account's tag. The child looks the numbers up in batches as
the plan streams them by (`campaigns.store.history.summarize_recent`), so memory stays bounded
whatever the list's size.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import redis

from campaigns.backends import Services, connect_redis
from campaigns.store.history import HistoryEntry, HistoryReader, RecentSummary, summarize_recent
from campaigns.store.redis_store import RedisStore
from campaigns.store.sqlite_store import SqliteStore
from dialer.errors import DialerError, StoreError
from dialer.keys import RedisKeys

BATCH = 500  # numbers looked up at once (summarize_recent's own batch)


@dataclass(frozen=True)
class HistorySource:
    """Where the page's store keeps the contact history: picklable, without any secret."""

    account: str
    sqlite_path: Path | None = None
    redis_url: str | None = None  # the cluster's (the store's keys under the default prefix)

    @classmethod
    def of(cls, services: Services) -> HistorySource:
        store = services.store
        account = str(getattr(store, "account", ""))
        if isinstance(store, SqliteStore):
            return cls(account, sqlite_path=store.path)
        return cls(account, redis_url=services.settings.redis_url)


@dataclass
class RecentCalls:
    """What the plan says of the recall guard; `error` when the history could not be read."""

    summary: RecentSummary
    error: str = ""

    @property
    def campaigns(self) -> list[tuple[str, int]]:
        return (self.summary.by_campaign or Counter()).most_common()


@dataclass
class RecentCounter:
    """Fed the plan's ready numbers one by one; looks them up BATCH at a time."""

    history: HistoryReader
    now: float
    recall_after_s: float
    exclude_campaign: str  # a resumed campaign's own calls are its own rows, not recalls
    _batch: list[str] = field(default_factory=list)
    _result: RecentCalls | None = None

    def __post_init__(self) -> None:
        self._result = RecentCalls(RecentSummary(self.recall_after_s, 0, Counter()))

    def add(self, number: str) -> None:
        if self.recall_after_s <= 0 or self._failed:
            return
        self._batch.append(number)
        if len(self._batch) >= BATCH:
            self._flush()

    def result(self) -> RecentCalls:
        self._flush()
        assert self._result is not None
        return self._result

    @property
    def _failed(self) -> bool:
        return bool(self._result and self._result.error)

    def _flush(self) -> None:
        batch, self._batch = self._batch, []
        if not batch or self._failed:
            return
        assert self._result is not None
        try:
            part = summarize_recent(
                batch, self.history, self.now, self.recall_after_s, self.exclude_campaign, BATCH
            )
        except (DialerError, OSError, redis.RedisError) as exc:  # the plan still shows, saying so
            self._result.error = _unread(exc)
            return
        total = self._result.summary
        total.numbers += part.numbers
        assert total.by_campaign is not None
        total.by_campaign.update(part.by_campaign or Counter())


def _unread(exc: Exception) -> str:
    return (
        f"The contact history could not be read ({exc}), so this plan cannot say who was "
        "called lately; Start still checks every number before dialling it."
    )


class _Unreadable:
    """A store that could not be opened: each look-up says why (the plan shows it)."""

    def __init__(self, reason: str) -> None:
        self._reason = reason

    def recent_calls(self, numbers: list[str], since: float) -> list[HistoryEntry]:
        raise StoreError(self._reason)


class OpenHistory:
    """The store named by a source, opened in the plan's child and closed with it."""

    def __init__(self, source: HistorySource) -> None:
        self._source = source
        self._sqlite: SqliteStore | None = None
        self._redis: redis.Redis[str] | None = None

    def __enter__(self) -> HistoryReader:
        source = self._source
        try:
            if source.sqlite_path is not None:
                self._sqlite = SqliteStore(source.sqlite_path, source.account)
                return self._sqlite
            if source.redis_url:
                self._redis = connect_redis(source.redis_url)
                return RedisStore(self._redis, RedisKeys(), source.account)
        except (DialerError, OSError, redis.RedisError) as exc:
            return _Unreadable(str(exc))
        return _Unreadable("the page was given no store")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
        if self._redis is not None:
            self._redis.close()
