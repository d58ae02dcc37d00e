"""Progressive delay after failed sign-ins: free failures, doubling waits, a ceiling."""

from __future__ import annotations

import pytest
from limits.aio.storage import MemoryStorage

from app.core.errors import RateLimitedError
from app.core.throttle import MIN_FAILURE_MEMORY_SECONDS, AuthThrottle, DelayPolicy

ACCOUNT = DelayPolicy(free_failures=3, max_delay_seconds=60)
ADDRESS = DelayPolicy(free_failures=5, max_delay_seconds=60)


@pytest.fixture
def throttle() -> AuthThrottle:
    return AuthThrottle(MemoryStorage(), per_account=ACCOUNT, per_address=ADDRESS)


async def _retry_after(throttle: AuthThrottle, **keys: str) -> int | None:
    try:
        await throttle.check(**keys)
    except RateLimitedError as refused:
        headers = refused.headers or {}
        return int(headers["Retry-After"])
    return None


def test_the_delay_doubles_past_the_free_failures_up_to_the_ceiling() -> None:
    delays = [ACCOUNT.delay_after(n) for n in range(1, 12)]
    assert delays == [0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert ACCOUNT.delay_after(10_000) == 60


def test_failures_are_remembered_long_enough_to_reach_the_ceiling() -> None:
    assert ACCOUNT.memory_seconds == MIN_FAILURE_MEMORY_SECONDS
    long_ceiling = DelayPolicy(free_failures=1, max_delay_seconds=7_200)
    assert long_ceiling.memory_seconds == 14_400


async def test_free_failures_cost_nothing(throttle: AuthThrottle) -> None:
    for _ in range(ACCOUNT.free_failures - 1):
        await throttle.failed(account="ada", address="198.51.100.1")
    assert await _retry_after(throttle, account="ada", address="198.51.100.1") is None


async def test_each_further_failure_doubles_the_wait(throttle: AuthThrottle) -> None:
    waits = []
    for _ in range(6):
        await throttle.failed(account="ada", address="198.51.100.1")
        waits.append(await _retry_after(throttle, account="ada"))
    assert waits == [None, None, 1, 2, 4, 8]


async def test_a_delayed_account_waits_from_every_address(throttle: AuthThrottle) -> None:
    for number in range(ACCOUNT.free_failures):
        await throttle.failed(account="ada", address=f"198.51.100.{number}")
    assert await _retry_after(throttle, account="ada", address="203.0.113.9") == 1
    assert await _retry_after(throttle, account="grace", address="203.0.113.9") is None


async def test_an_address_guessing_at_many_accounts_waits_for_all(throttle: AuthThrottle) -> None:
    for number in range(ADDRESS.free_failures):
        await throttle.failed(account=f"user-{number}", address="198.51.100.1")
    assert await _retry_after(throttle, account="someone-new", address="198.51.100.1") == 1
    assert await _retry_after(throttle, account="someone-new", address="198.51.100.2") is None


async def test_success_clears_the_account_but_not_the_address(throttle: AuthThrottle) -> None:
    for _ in range(ADDRESS.free_failures):
        await throttle.failed(account="ada", address="198.51.100.1")
    await throttle.succeeded(account="ada")
    assert await _retry_after(throttle, account="ada") is None
    assert await _retry_after(throttle, address="198.51.100.1") == 1
    # The account's series starts over: its next failure is a free one again.
    await throttle.failed(account="ada", address="198.51.100.2")
    assert await _retry_after(throttle, account="ada") is None


async def test_a_storage_reset_lifts_every_delay(throttle: AuthThrottle) -> None:
    for _ in range(ADDRESS.free_failures + 2):
        await throttle.failed(account="ada", address="198.51.100.1")
    await throttle.storage.reset()
    assert await _retry_after(throttle, account="ada", address="198.51.100.1") is None
