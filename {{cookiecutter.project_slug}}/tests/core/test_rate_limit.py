"""The moving-window rate limiter on in-process storage (the Redis backend has its own file)."""

from __future__ import annotations

import pytest
from limits.aio.storage import MemoryStorage

from app.core.errors import RateLimitedError
from app.core.rate_limit import RateLimiter


async def test_allows_up_to_the_limit_then_refuses_with_retry_after() -> None:
    limiter = RateLimiter(MemoryStorage(), "3/minute")
    for _ in range(3):
        await limiter.hit("login:198.51.100.1")
    with pytest.raises(RateLimitedError) as caught:
        await limiter.hit("login:198.51.100.1")
    assert caught.value.status_code == 429
    assert caught.value.headers is not None
    assert 1 <= int(caught.value.headers["Retry-After"]) <= 61


async def test_keys_are_counted_separately() -> None:
    limiter = RateLimiter(MemoryStorage(), "1/minute")
    await limiter.hit("login:198.51.100.1")
    await limiter.hit("login:198.51.100.2")
    await limiter.hit("register:198.51.100.1")
    with pytest.raises(RateLimitedError):
        await limiter.hit("login:198.51.100.1")


async def test_retry_after_reflects_the_window() -> None:
    limiter = RateLimiter(MemoryStorage(), "1/hour")
    await limiter.hit("k")
    with pytest.raises(RateLimitedError) as caught:
        await limiter.hit("k")
    assert caught.value.headers is not None
    assert 3500 <= int(caught.value.headers["Retry-After"]) <= 3601


async def test_reset_forgets_every_counter() -> None:
    limiter = RateLimiter(MemoryStorage(), "1/minute")
    await limiter.hit("k")
    await limiter.reset()
    await limiter.hit("k")


async def test_close_runs_the_given_cleanup_once() -> None:
    closed: list[bool] = []

    async def cleanup() -> None:
        closed.append(True)

    await RateLimiter(MemoryStorage(), "1/minute").close()
    limiter = RateLimiter(MemoryStorage(), "1/minute", on_close=cleanup)
    await limiter.close()
    await limiter.close()
    assert closed == [True]


def test_invalid_limit_strings_fail_at_construction() -> None:
    with pytest.raises(ValueError, match="couldn't parse"):
        RateLimiter(MemoryStorage(), "lots")
