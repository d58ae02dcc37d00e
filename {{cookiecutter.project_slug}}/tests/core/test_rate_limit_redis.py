"""Rate-limit counters in Redis, on fakeredis: shared between workers, under their prefix.

While Redis fails, counting falls back to each process with the same limits and goes
back to Redis once it answers. The running service's limits on a real Redis are proven
in `test_store_redis.py`, and through a Redis restart in `tests/outages`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import fakeredis
import pytest
from limits.aio.storage import RedisStorage
from redis.asyncio import Redis
from structlog.testing import capture_logs

from app.core.backends import create_rate_limiter
from app.core.config import Settings
from app.core.errors import RateLimitedError
from app.core.rate_limit import RateLimiter
from app.core.rate_limit_fallback import FailOpenStorage
from app.core.rate_limit_redis import (
    RATE_LIMIT_KEY_PREFIX,
    create_redis_rate_limiter,
    redis_rate_limit_storage,
)
from app.core.throttle import AuthThrottle, DelayPolicy

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
        assert isinstance(limiter.storage, FailOpenStorage)
        assert isinstance(limiter.storage.shared, RedisStorage)
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


async def test_an_unreachable_redis_fails_open_to_local_counters_with_the_same_limit() -> None:
    limiter = create_redis_rate_limiter(UNREACHABLE_URL, "3/minute", timeout_seconds=1.0)
    try:
        with capture_logs() as logs:
            for _ in range(3):
                await limiter.hit("login:198.51.100.1")
            with pytest.raises(RateLimitedError) as caught:
                await limiter.hit("login:198.51.100.1")
        await limiter.hit("login:198.51.100.2")
    finally:
        await limiter.close()
    assert caught.value.headers is not None
    assert 1 <= int(caught.value.headers["Retry-After"]) <= 61
    warnings = [log for log in logs if log["event"] == "rate_limit_storage_unavailable"]
    assert len(warnings) == 1


def _fail_open_on(server: fakeredis.FakeServer, clock: list[float]) -> FailOpenStorage:
    pool = fakeredis.FakeAsyncRedis(server=server).connection_pool
    return FailOpenStorage(
        redis_rate_limit_storage(pool), retry_seconds=1.0, clock=lambda: clock[0]
    )


async def test_counting_goes_back_to_redis_once_it_answers(
    server: fakeredis.FakeServer, fake_client: Redis
) -> None:
    clock = [100.0]
    storage = _fail_open_on(server, clock)
    limiter = RateLimiter(storage, "2/minute")
    server.connected = False
    await limiter.hit("k")
    await limiter.hit("k")
    with pytest.raises(RateLimitedError):
        await limiter.hit("k")
    assert storage.on_local_counters

    server.connected = True
    clock[0] += 0.5
    with pytest.raises(RateLimitedError):
        await limiter.hit("k")
    assert await fake_client.keys(f"{RATE_LIMIT_KEY_PREFIX}:*") == []

    clock[0] += 1.0
    with capture_logs() as logs:
        await limiter.hit("k")
    assert not storage.on_local_counters
    assert len(await fake_client.keys(f"{RATE_LIMIT_KEY_PREFIX}:*")) == 1
    assert [log["event"] for log in logs] == ["rate_limit_storage_recovered"]


async def test_one_warning_per_interval_while_redis_stays_away(
    server: fakeredis.FakeServer,
) -> None:
    clock = [100.0]
    storage = _fail_open_on(server, clock)
    limiter = RateLimiter(storage, "1000/minute")
    server.connected = False
    with capture_logs() as logs:
        for _ in range(5):
            clock[0] += 2.0
            await limiter.hit("k")
        clock[0] += 60.0
        await limiter.hit("k")
    warnings = [log for log in logs if log["event"] == "rate_limit_storage_unavailable"]
    assert len(warnings) == 2


async def test_the_sign_in_throttle_shares_the_fallback(server: fakeredis.FakeServer) -> None:
    """Failed sign-ins counted while Redis is away still make the account wait."""
    storage = _fail_open_on(server, [100.0])
    throttle = AuthThrottle(
        storage,
        per_account=DelayPolicy(free_failures=1, max_delay_seconds=60),
        per_address=DelayPolicy(free_failures=100, max_delay_seconds=60),
    )
    server.connected = False
    await throttle.failed(account="a", address="198.51.100.1")
    await throttle.failed(account="a", address="198.51.100.1")
    with pytest.raises(RateLimitedError):
        await throttle.check(account="a")
    await throttle.check(account="b")
