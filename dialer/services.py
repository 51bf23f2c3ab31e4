"""Wiring: the store, limiter and API client a run uses, built from the settings.

Embedded mode (no REDIS_URL): a SQLite file under the state folder and an in-process limiter.
Cluster mode: the Redis store and the Redis limiter shared by every worker.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from campaigns.redis_store import RedisStore
from campaigns.sqlite_store import SqliteStore
from campaigns.store import RowStore
from dialer.client import Timeouts, VoxpriaClient
from dialer.clock import Clock
from dialer.errors import StoreError
from dialer.limiter import Limiter, LocalLimiter, RedisLimiter
from dialer.metrics import NO_METRICS, Recorder
from dialer.redis_keys import RedisKeys, account_tag
from dialer.settings import Settings

STATE_FILE = "campaigns.sqlite"


def connect_redis(url: str) -> redis.Redis[str]:
    client: redis.Redis[str] = redis.Redis.from_url(
        url, decode_responses=True, socket_connect_timeout=5, health_check_interval=30
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        raise StoreError(
            f"REDIS_URL cannot be reached ({exc}). Start Redis (docker compose up -d redis) "
            "or unset REDIS_URL to run embedded, with no server."
        ) from exc
    return client


@dataclass
class Services:
    settings: Settings
    store: RowStore
    limiter: Limiter
    redis: redis.Redis[str] | None = None

    @property
    def cluster(self) -> bool:
        return self.redis is not None

    def client(self, clock: Clock, metrics: Recorder = NO_METRICS) -> VoxpriaClient:
        """An API client whose every read waits for the account's request budget (a POST
        /calls is paced by the engine, which takes call and request slots in one step)."""

        def before_request(kind: str) -> None:
            if kind != "call":
                self.limiter.wait_request(clock)

        return VoxpriaClient(
            self.settings.base_url,
            self.settings.api_key,
            clock=clock,
            before_request=before_request,
            timeouts=Timeouts(read_s=self.settings.http_read_timeout_s),
            metrics=metrics,
        )

    def close(self) -> None:
        if isinstance(self.store, SqliteStore):
            self.store.close()
        if self.redis is not None:
            self.redis.close()


def open_services(settings: Settings, clock: Clock, *, redis_prefix: str = "dialer") -> Services:
    account = account_tag(settings.base_url, settings.api_key.reveal())
    if settings.redis_url is None:
        store = SqliteStore(settings.home / STATE_FILE, account)
        limiter = LocalLimiter(settings.call_limit, settings.request_limit, clock)
        return Services(settings, store, limiter)
    client = connect_redis(settings.redis_url)
    keys = RedisKeys(redis_prefix)
    return Services(
        settings,
        RedisStore(client, keys, account),
        RedisLimiter(client, keys, account, settings.call_limit, settings.request_limit),
        redis=client,
    )
