"""The Redis store: unit tests on fakeredis, and the running service on a real Redis.

The second half runs when TEST_REDIS_URL is set; it proves revocations and rate-limit
counters really live in Redis, where every worker and replica shares them.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator

import fakeredis
import httpx
import pytest
from fastapi import FastAPI
from jose import jwt
from limits.aio.storage import RedisStorage
from redis.asyncio import Redis

from app.core.backends import create_store
from app.core.config import Settings
from app.core.event_log import LogEntry
from app.core.rate_limit_fallback import FailOpenStorage
from app.core.rate_limit_redis import RATE_LIMIT_KEY_PREFIX
from app.core.security.revocation import LOADED_KEY, Revocations
from app.core.security.tokens import TokenType, create_token, decode_token
from app.core.store import Increment, StoreUnavailableError
from app.core.store_redis import RedisStore
from app.crud.revocation import DatabaseRevocationLedger
from app.db.session import Database
from tests.support.factories import AppFactory, UserFactory, client_for
from tests.support.network import silent_server
from tests.support.settings import settings_from

REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
UNREACHABLE_URL = "redis://127.0.0.1:1/0"
SECRET = "unit-test-secret-that-is-long-enough"
REFRESH = "/api/v1/auth/refresh"
ME = "/api/v1/users/me"


@pytest.fixture
def server() -> fakeredis.FakeServer:
    """One fake Redis server; several clients on it act like several workers."""
    return fakeredis.FakeServer()


@pytest.fixture
async def fake_client(server: fakeredis.FakeServer) -> AsyncIterator[Redis]:
    client = fakeredis.FakeAsyncRedis(server=server, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
def redis_store(fake_client: Redis) -> RedisStore:
    return RedisStore(fake_client)


def _settings(**values: object) -> Settings:
    return settings_from({"environment": "test", "secret_key": SECRET, **values})


# --- RedisStore on fakeredis ------------------------------------------------------------


async def test_set_get_delete(redis_store: RedisStore) -> None:
    assert await redis_store.get("k") is None
    await redis_store.set("k", "v")
    assert await redis_store.get("k") == "v"
    await redis_store.delete("k")
    assert await redis_store.get("k") is None


async def test_increments_apply_together_or_not_at_all(
    redis_store: RedisStore, fake_client: Redis
) -> None:
    first = await redis_store.increment_within(
        [Increment("a", 5, 10, ttl_seconds=60), Increment("b", 5, None, ttl_seconds=60)]
    )
    refused = await redis_store.increment_within(
        [Increment("b", 1, None, ttl_seconds=60), Increment("a", 6, 10, ttl_seconds=60)]
    )
    released = await redis_store.increment_within([Increment("a", -3, 0, ttl_seconds=60)])

    assert (first, refused, released) == (None, 1, None)
    assert await redis_store.get_many(["a", "b"]) == ["2", "5"]
    assert 0 < await fake_client.ttl("a") <= 60


async def test_increments_on_many_workers_never_pass_the_limit(
    server: fakeredis.FakeServer,
) -> None:
    clients = [fakeredis.FakeAsyncRedis(server=server, decode_responses=True) for _ in range(4)]
    stores = [RedisStore(client) for client in clients]
    try:
        outcomes = await asyncio.gather(
            *(
                stores[n % 4].increment_within([Increment("spent", 3, 100, ttl_seconds=60)])
                for n in range(60)
            )
        )
        assert outcomes.count(None) == 33
        assert await stores[0].get("spent") == "99"
    finally:
        for client in clients:
            await client.aclose()


async def test_get_many_is_one_mget(redis_store: RedisStore) -> None:
    await redis_store.set("a", "1")
    await redis_store.set("b", "2")
    assert await redis_store.get_many(["a", "missing", "b"]) == ["1", None, "2"]
    assert await redis_store.get_many([]) == []


async def test_add_is_set_if_absent(redis_store: RedisStore) -> None:
    assert await redis_store.add("k", "first", ttl_seconds=60) is True
    assert await redis_store.add("k", "second", ttl_seconds=60) is False
    assert await redis_store.get("k") == "first"


async def test_ttls_are_redis_expiries(redis_store: RedisStore, fake_client: Redis) -> None:
    await redis_store.set("short", "v", ttl_seconds=30)
    await redis_store.set("forever", "v")
    await redis_store.set("zero", "v", ttl_seconds=0)
    assert 0 < await fake_client.ttl("short") <= 30
    assert await fake_client.ttl("forever") == -1
    assert await fake_client.ttl("zero") == -1


async def test_ping(redis_store: RedisStore) -> None:
    assert await redis_store.ping() is True


async def test_ping_is_false_when_redis_is_unreachable() -> None:
    store = RedisStore.from_url(UNREACHABLE_URL, socket_timeout=1.0)
    try:
        assert await store.ping() is False
    finally:
        await store.close()


async def test_revocation_is_shared_between_workers(
    server: fakeredis.FakeServer, database: Database
) -> None:
    worker_a = RedisStore(fakeredis.FakeAsyncRedis(server=server, decode_responses=True))
    worker_b = RedisStore(fakeredis.FakeAsyncRedis(server=server, decode_responses=True))
    ledger = DatabaseRevocationLedger(database)
    settings = _settings()
    token = create_token(settings, uuid.uuid4(), TokenType.REFRESH)
    claims = decode_token(settings, token, TokenType.REFRESH)
    try:
        assert await Revocations(worker_a, ledger).consume(claims) is True
        assert await Revocations(worker_b, ledger).consume(claims) is False
        assert await Revocations(worker_b, ledger).is_refused(claims)
    finally:
        await worker_a.close()
        await worker_b.close()


async def test_get_many_from_an_unreachable_redis_is_the_stores_error() -> None:
    store = RedisStore.from_url(UNREACHABLE_URL, socket_timeout=1.0)
    try:
        with pytest.raises(StoreUnavailableError):
            await store.get_many(["revocations-loaded", "user:1"])
    finally:
        await store.close()


def test_redis_url_selects_the_redis_store() -> None:
    store = create_store(_settings(redis_url=UNREACHABLE_URL))
    assert isinstance(store, RedisStore)


async def test_a_stalled_redis_fails_a_call_within_the_socket_timeout() -> None:
    async with silent_server() as address:
        store = RedisStore.from_url(f"redis://{address}/0", socket_timeout=0.2)
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError):
            await store.get("key")
        elapsed = time.monotonic() - started
        await store.close()
    assert elapsed < 2.0


async def test_a_full_pool_fails_a_call_after_its_bounded_wait() -> None:
    """One connection, held by a stalled call: the next call waits briefly, then fails."""
    async with silent_server() as address:
        store = RedisStore.from_url(
            f"redis://{address}/0", socket_timeout=5.0, max_connections=1, pool_timeout=0.2
        )
        holder = asyncio.create_task(store.get("held"))
        await asyncio.sleep(0.05)
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError):
            await store.get("waiting")
        elapsed = time.monotonic() - started
        holder.cancel()
        await asyncio.gather(holder, return_exceptions=True)
        await store.close()
    assert 0.15 <= elapsed < 2.0


# --- the running service on a real Redis ------------------------------------------------

needs_redis = pytest.mark.skipif(not REDIS_URL, reason="set TEST_REDIS_URL to use a real Redis")


@pytest.fixture
async def real_redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL, decode_responses=True)
    yield client
    await client.aclose()


@pytest.mark.redis
@needs_redis
async def test_the_service_uses_redis_when_configured(app: FastAPI) -> None:
    assert isinstance(app.state.store, RedisStore)
    assert isinstance(app.state.rate_limiter.storage, FailOpenStorage)
    assert isinstance(app.state.rate_limiter.storage.shared, RedisStorage)


@pytest.mark.redis
@needs_redis
async def test_logout_and_refresh_revocations_are_stored_in_redis(
    client: httpx.AsyncClient, users: UserFactory, real_redis: Redis
) -> None:
    user = await users.signed_in()
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": user.refresh_token}
    )
    assert refreshed.status_code == 200
    spent_jti = jwt.get_unverified_claims(user.refresh_token)["jti"]
    assert await real_redis.exists(f"revoked-jti:{spent_jti}") == 1
    assert 0 < await real_redis.ttl(f"revoked-jti:{spent_jti}") <= 14 * 24 * 3600 + 1

    response = await client.post("/api/v1/auth/logout", headers=user.headers)
    assert response.status_code == 204
    access_jti = jwt.get_unverified_claims(user.access_token)["jti"]
    assert await real_redis.exists(f"revoked-jti:{access_jti}") == 1
    assert 0 < await real_redis.ttl(f"revoked-jti:{access_jti}") <= 30 * 60 + 1


@pytest.mark.redis
@needs_redis
async def test_revocations_lost_by_redis_are_reloaded_from_the_database(
    client: httpx.AsyncClient, users: UserFactory, real_redis: Redis
) -> None:
    """A flush or a restart without persistence drops the keys; the refusals stay."""
    user = await users.signed_in()
    refreshed = await client.post(REFRESH, json={"refresh_token": user.refresh_token})
    assert refreshed.status_code == 200
    rotated = refreshed.json()
    other = await users.signed_in()
    assert (await client.post("/api/v1/auth/logout", headers=other.headers)).status_code == 204
    spent_jti = jwt.get_unverified_claims(user.refresh_token)["jti"]
    logged_out_jti = jwt.get_unverified_claims(other.access_token)["jti"]
    await real_redis.delete(LOADED_KEY, f"revoked-jti:{spent_jti}", f"revoked-jti:{logged_out_jti}")

    assert (await client.get(ME, headers=other.headers)).status_code == 401
    assert await real_redis.exists(LOADED_KEY, f"revoked-jti:{logged_out_jti}") == 2
    replay = await client.post(REFRESH, json={"refresh_token": user.refresh_token})
    assert replay.status_code == 401
    rotated_headers = {"Authorization": f"Bearer {rotated['access_token']}"}
    assert (await client.get(ME, headers=rotated_headers)).status_code == 401


@pytest.mark.redis
@needs_redis
async def test_a_revocation_written_to_redis_is_seen_by_the_service(
    client: httpx.AsyncClient, users: UserFactory, real_redis: Redis
) -> None:
    """Another replica's logout is just a key in Redis; this process must honour it."""
    user = await users.signed_in()
    jti = jwt.get_unverified_claims(user.access_token)["jti"]
    await real_redis.set(f"revoked-jti:{jti}", "1", ex=60)
    response = await client.get("/api/v1/users/me", headers=user.headers)
    assert response.status_code == 401


@pytest.mark.redis
@needs_redis
async def test_auth_rate_limits_are_counted_in_redis_across_workers(
    make_app: AppFactory, real_redis: Redis
) -> None:
    worker_a = await make_app(auth_rate_limit="3/minute")
    worker_b = await make_app(auth_rate_limit="3/minute")
    form = {"username": "nobody@example.com", "password": "x"}
    async with client_for(worker_a) as a, client_for(worker_b) as b:
        codes = [
            (await a.post("/api/v1/auth/login", data=form)).status_code,
            (await b.post("/api/v1/auth/login", data=form)).status_code,
            (await a.post("/api/v1/auth/login", data=form)).status_code,
        ]
        keys = await real_redis.keys(f"{RATE_LIMIT_KEY_PREFIX}:*/api/v1/auth/login*")
        blocked = await b.post("/api/v1/auth/login", data=form)
    assert codes == [401, 401, 401]
    assert keys, "rate-limit counters should be Redis keys"
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) >= 1


@pytest.mark.redis
@needs_redis
async def test_a_refresh_token_reused_on_another_worker_ends_the_family_everywhere(
    make_app: AppFactory, real_redis: Redis
) -> None:
    """Rotated on one worker, replayed on a second, refused on a third started afterwards."""
    worker_a = await make_app()
    worker_b = await make_app()
    async with client_for(worker_a) as a, client_for(worker_b) as b:
        user = await UserFactory(a, worker_a.state.database).signed_in()
        rotated = (await a.post(REFRESH, json={"refresh_token": user.refresh_token})).json()
        replay = await b.post(REFRESH, json={"refresh_token": user.refresh_token})
        assert replay.status_code == 401
        family = jwt.get_unverified_claims(user.refresh_token)["fam"]
        assert await real_redis.exists(f"revoked-family:{family}") == 1
        assert 13 * 86_400 < await real_redis.ttl(f"revoked-family:{family}") <= 14 * 86_400 + 1
        newer = await a.post(REFRESH, json={"refresh_token": rotated["refresh_token"]})
        assert newer.status_code == 401
    worker_c = await make_app()
    async with client_for(worker_c) as c:
        me = await c.get(ME, headers={"Authorization": f"Bearer {rotated['access_token']}"})
        assert me.status_code == 401
        again = await c.post(REFRESH, json={"refresh_token": rotated["refresh_token"]})
        assert again.status_code == 401


@pytest.mark.redis
@needs_redis
async def test_readiness_pings_redis(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert response.json()["checks"]["store"] is True


async def test_an_event_log_is_shared_ordered_and_ignores_replays(
    server: fakeredis.FakeServer,
) -> None:
    writer = RedisStore(fakeredis.FakeAsyncRedis(server=server, decode_responses=True))
    reader = RedisStore(fakeredis.FakeAsyncRedis(server=server, decode_responses=True))
    try:
        assert await writer.append_event("execution-events:1", "3-1", "first", ttl_seconds=60)
        assert await writer.append_event("execution-events:2", "3-1", "other", ttl_seconds=60)
        assert await writer.append_event("execution-events:1", "4-1", "second", ttl_seconds=60)
        assert not await writer.append_event("execution-events:1", "3-1", "again", ttl_seconds=60)

        everything = await reader.read_events("execution-events:1", "0-0", wait_seconds=0)
        after = await reader.read_events("execution-events:1", "3-1", wait_seconds=0)

        assert everything == [LogEntry("3-1", "first"), LogEntry("4-1", "second")]
        assert after == [LogEntry("4-1", "second")]
        assert 0 < await writer.client.ttl("execution-events:1") <= 60
    finally:
        await writer.close()
        await reader.close()


async def test_a_reader_waiting_on_an_event_log_wakes_for_the_next_entry(
    server: fakeredis.FakeServer,
) -> None:
    writer = RedisStore(fakeredis.FakeAsyncRedis(server=server, decode_responses=True))
    reader = RedisStore(fakeredis.FakeAsyncRedis(server=server, decode_responses=True))
    try:
        await writer.append_event("execution-events:1", "3-1", "first", ttl_seconds=60)
        waiting = asyncio.create_task(
            reader.read_events("execution-events:1", "3-1", wait_seconds=2)
        )
        await writer.append_event("execution-events:1", "4-1", "second", ttl_seconds=60)

        assert await asyncio.wait_for(waiting, 5) == [LogEntry("4-1", "second")]
        assert await reader.read_events("execution-events:1", "4-1", wait_seconds=0.05) == []
    finally:
        await writer.close()
        await reader.close()


@needs_redis
async def test_event_logs_on_a_real_redis_ignore_replays_and_expire() -> None:
    store = RedisStore.from_url(REDIS_URL)
    log = f"execution-events:{uuid.uuid4()}"
    try:
        waiting = asyncio.create_task(store.read_events(log, "0-0", wait_seconds=2))
        assert await store.append_event(log, "3-1", "started", ttl_seconds=60)
        assert await asyncio.wait_for(waiting, 5) == [LogEntry("3-1", "started")]
        assert not await store.append_event(log, "3-1", "started again", ttl_seconds=60)
        assert 0 < await store.client.ttl(log) <= 60
    finally:
        await store.delete(log)
        await store.close()
