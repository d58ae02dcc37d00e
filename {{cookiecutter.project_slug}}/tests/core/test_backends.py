"""Choosing the backends from settings: without Redis, everything stays in this process.

Settings are built from defaults only, so no environment variable can point them at a server.
"""

from __future__ import annotations

from limits.aio.storage import MemoryStorage

from app.core.backends import create_rate_limiter, create_store
from app.core.config import Settings
from app.core.store import MemoryStore


def test_without_redis_the_store_is_in_process() -> None:
    settings = Settings.model_construct(environment="test")
    assert isinstance(create_store(settings), MemoryStore)


async def test_without_redis_the_counters_stay_in_process() -> None:
    settings = Settings.model_construct(environment="test", auth_rate_limit="2/second")
    limiter = create_rate_limiter(settings)
    try:
        assert isinstance(limiter.storage, MemoryStorage)
        assert limiter.item.amount == 2
    finally:
        await limiter.close()
