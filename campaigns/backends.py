"""Wiring: the store, limiter and API client a run uses, built from the settings (the campaign
service, the workers and the commands open them here).

Embedded mode (no REDIS_URL): a SQLite file under the state folder and an in-process limiter.
Cluster mode: the Redis store and the Redis limiter shared by every worker.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from campaigns.store.redis_store import RedisStore
from campaigns.store.rows import RowStore
from campaigns.store.sqlite_store import SqliteStore
from dialer.clock import Clock
from dialer.errors import StoreError
from dialer.keys import RedisKeys, account_tag
from dialer.limiter import Limiter, RedisLimiter, SharedFileLimiter
from dialer.metrics import NO_METRICS, Recorder
from dialer.settings import Settings
from dialer.voxpria.client import Timeouts, VoxpriaClient

STATE_FILE = "campaigns.sqlite"
LIMITER_FILE = "limiter.sqlite"


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


VOLATILE_OVERRIDE = "DIALER_ALLOW_VOLATILE_REDIS=1"


def check_durable(client: redis.Redis[str], url_name: str = "REDIS_URL") -> None:
    """Refuse a Redis that may lose an acknowledged write: a dialing intent lost in a restart
    is a person phoned twice. Needs `appendonly yes` and `appendfsync always`."""
    try:
        config = {
            **client.config_get("appendonly"),
            **client.config_get("appendfsync"),
        }
    except redis.ResponseError as exc:  # CONFIG renamed or disabled (managed Redis)
        raise StoreError(
            f"The Redis at {url_name} does not say whether it persists every write ({exc}). "
            "The cluster needs appendonly yes and appendfsync always (or your provider's "
            f"equivalent); once you have checked that it does, set {VOLATILE_OVERRIDE}."
        ) from exc
    except redis.RedisError as exc:
        raise StoreError(f"{url_name} cannot be reached ({exc}).") from exc
    wrong = [
        f"{name} is {config.get(name, 'unset')}"
        for name, wanted in (("appendonly", "yes"), ("appendfsync", "always"))
        if config.get(name) != wanted
    ]
    if wrong:
        raise StoreError(
            f"The Redis at {url_name} would lose campaigns in a restart ({', '.join(wrong)}): "
            "a lost dialing intent is a person phoned twice, so no campaign is started on it. "
            "Set appendonly yes and appendfsync always (redis.conf, or `redis-cli CONFIG SET "
            "appendonly yes` and `CONFIG SET appendfsync always`; docker-compose.yml does it). "
            f"For a throwaway test only: {VOLATILE_OVERRIDE}."
        )


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
        if isinstance(self.limiter, SharedFileLimiter):
            self.limiter.close()
        if self.redis is not None:
            self.redis.close()


def open_services(settings: Settings, clock: Clock, *, redis_prefix: str = "dialer") -> Services:
    account = account_tag(settings.base_url, settings.api_key.reveal())
    if settings.redis_url is None:
        store = SqliteStore(settings.home / STATE_FILE, account)
        # one limiter per account for every embedded process sharing this state folder
        limiter = SharedFileLimiter(
            settings.home / LIMITER_FILE,
            account,
            settings.call_limit,
            settings.request_limit,
            clock,
        )
        return Services(settings, store, limiter)
    client = connect_redis(settings.redis_url)
    keys = RedisKeys(redis_prefix)
    return Services(
        settings,
        RedisStore(client, keys, account),
        RedisLimiter(client, keys, account, settings.call_limit, settings.request_limit),
        redis=client,
    )
