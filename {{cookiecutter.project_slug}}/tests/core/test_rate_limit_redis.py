"""Rate-limit counters in Redis, on fakeredis: shared between workers, under their prefix.

The running service's limits on a real Redis are proven in `test_store_redis.py`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import fakeredis
import pytest
from limits.aio.storage import RedisStorage
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from app.core.backends import create_rate_limiter
from app.core.config import Settings
from app.core.errors import RateLimitedError
from app.core.rate_limit import RateLimiter
from app.core.rate_limit_redis import (
    RATE_LIMIT_KEY_PREFIX,
    create_redis_rate_limiter,
    redis_rate_limit_storage,
)

UNREACHABLE_URL = "redis://127.0.0.1:1/0"


@pytest.fixture
def server() -> fakeredis.FakeServer:
    """One fake Redis server; several limiters on it act like several workers."""
    return fakeredis.FakeServer()


@pytest.fixture
async def fake_client(server: fakeredis.FakeServer) -> AsyncIterator[Redis]:
    client = fakeredis.FakeAsyncRedis(server=server, decode_responses=True)
    yield client
    await client.aclose()


def _limiter_on(server: fakeredis.FakeServer, limit: str) -> RateLimiter:
    pool = fakeredis.FakeAsyncRedis(server=server).connection_pool
    return RateLimiter(redis_rate_limit_storage(pool), limit, on_close=pool.aclose)


async def test_redis_counters_are_shared_between_workers(server: fakeredis.FakeServer) -> None:
    worker_a = _limiter_on(server, "3/minute")
    worker_b = _limiter_on(server, "3/minute")
    try:
        await worker_a.hit("login:198.51.100.1")
        await worker_b.hit("login:198.51.100.1")
        await worker_a.hit("login:198.51.100.1")
        with pytest.raises(RateLimitedError) as caught:
            await worker_b.hit("login:198.51.100.1")
        assert caught.value.headers is not None
        assert 1 <= int(caught.value.headers["Retry-After"]) <= 61
        await worker_b.hit("login:198.51.100.2")
    finally:
        await worker_a.close()
        await worker_b.close()


async def test_redis_counters_live_under_their_prefix_and_reset(
    server: fakeredis.FakeServer, fake_client: Redis
) -> None:
    limiter = _limiter_on(server, "5/minute")
    try:
        await limiter.hit("login:198.51.100.1")
        await fake_client.set("unrelated", "kept")
        keys = await fake_client.keys(f"{RATE_LIMIT_KEY_PREFIX}:*")
        assert len(keys) == 1
        assert "login:198.51.100.1" in keys[0]
        await limiter.reset()
        assert await fake_client.keys(f"{RATE_LIMIT_KEY_PREFIX}:*") == []
        assert await fake_client.get("unrelated") == "kept"
    finally:
        await limiter.close()


async def test_redis_url_selects_redis_counters() -> None:
    settings = Settings.model_construct(
        environment="test", redis_url=UNREACHABLE_URL, auth_rate_limit="7/hour"
    )
    limiter = create_rate_limiter(settings)
    try:
        assert isinstance(limiter.storage, RedisStorage)
        assert limiter.item.amount == 7
    finally:
        await limiter.close()


@pytest.mark.parametrize(
    "url", ["redis://localhost/0", "redis://:pw@localhost", "rediss://cache.internal:6380/1"]
)
async def test_common_redis_url_forms_are_accepted(url: str) -> None:
    """`limits` alone would refuse a URL without a port; the owned pool takes them all."""
    limiter = create_redis_rate_limiter(url, "3/minute", timeout_seconds=1.0)
    await limiter.close()


async def test_an_unreachable_redis_is_an_error_not_a_silent_pass() -> None:
    limiter = create_redis_rate_limiter(UNREACHABLE_URL, "3/minute", timeout_seconds=1.0)
    try:
        with pytest.raises(RedisConnectionError):
            await limiter.hit("k")
    finally:
        await limiter.close()
