"""Real Redis for tests: 127.0.0.1:6379, each test under its own key prefix, cleaned after.

Locally a missing Redis skips the test with the reason; in CI (CI set) it fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import redis

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_or_skip() -> redis.Redis[str]:
    client: redis.Redis[str] = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: start redis-server to run this")
    return client


def unique_prefix(name: str = "test") -> str:
    return f"{name}-{uuid.uuid4().hex[:10]}"


def clean_prefix(client: redis.Redis[str], prefix: str) -> None:
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        client.delete(key)


@pytest.fixture
def real_redis() -> Iterator[tuple[redis.Redis[str], str]]:
    client = redis_or_skip()
    prefix = unique_prefix()
    yield client, prefix
    clean_prefix(client, prefix)
    client.close()
