"""Progressive delay after failed sign-ins, counted in the rate limiter's storage.

Every failure beyond the free ones doubles the wait before the next attempt is heard
(1 s, 2 s, 4 s ... up to a ceiling), so guessing slows to a crawl while a user who
mistypes a password twice notices nothing. Counters live where rate limits do: in
Redis when configured, so every worker and replica sees the same delay.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits.aio.storage import Storage

from app.core.errors import RateLimitedError

# Failures are forgotten this long after the first one of a series, at least.
MIN_FAILURE_MEMORY_SECONDS = 3_600


@dataclass(frozen=True, slots=True)
class DelayPolicy:
    """How many failures are free for one kind of key, and the longest delay after that."""

    free_failures: int
    max_delay_seconds: int

    def delay_after(self, failures: int) -> int:
        """Seconds to wait after the `failures`-th failure: 0 while free, then doubling."""
        beyond = failures - self.free_failures
        if beyond < 0:
            return 0
        return min(self.max_delay_seconds, 1 << min(beyond, 32))

    @property
    def memory_seconds(self) -> int:
        """How long a series of failures is remembered: long enough to reach the ceiling."""
        return max(MIN_FAILURE_MEMORY_SECONDS, 2 * self.max_delay_seconds)


class AuthThrottle:
    """Failed-attempt counters and delays, per account and per client address.

    A success clears the account's series but never the address's: otherwise whoever
    guesses at many accounts could reset their address by signing in to their own.
    """

    def __init__(
        self, storage: Storage, *, per_account: DelayPolicy, per_address: DelayPolicy
    ) -> None:
        """`storage` is the rate limiter's, so tests and operators reset both at once."""
        self.storage = storage
        self.per_account = per_account
        self.per_address = per_address

    async def check(self, *, account: str | None = None, address: str | None = None) -> None:
        """Refuse with 429 and Retry-After while the account or the address is waiting."""
        keys = [f"account:{account}"] if account is not None else []
        keys += [f"address:{address}"] if address is not None else []
        for key in keys:
            blocked = _blocked(key)
            if await self.storage.get(blocked):
                remaining = await self.storage.get_expiry(blocked) - time.time()
                raise RateLimitedError(retry_after=max(1, math.ceil(remaining)))

    async def failed(self, *, account: str, address: str) -> None:
        """Count a failure for both; past the free ones, each waits before its next attempt."""
        await self._count(f"account:{account}", self.per_account)
        await self._count(f"address:{address}", self.per_address)

    async def succeeded(self, *, account: str) -> None:
        """A successful sign-in wipes the account's series of failures."""
        await self.storage.clear(_failures(f"account:{account}"))
        await self.storage.clear(_blocked(f"account:{account}"))

    async def _count(self, key: str, policy: DelayPolicy) -> None:
        failures = await self.storage.incr(_failures(key), policy.memory_seconds)
        delay = policy.delay_after(failures)
        if delay:
            # Cleared first: `incr` keeps an existing key's expiry, and the delay must grow.
            await self.storage.clear(_blocked(key))
            await self.storage.incr(_blocked(key), delay)


def _failures(key: str) -> str:
    return f"auth-failures:{key}"


def _blocked(key: str) -> str:
    return f"auth-delay:{key}"
