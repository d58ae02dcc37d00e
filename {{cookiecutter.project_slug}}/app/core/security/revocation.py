"""Revoked token ids and token families, remembered until their tokens would have expired.

Every revocation is written twice: to a durable ledger (the database) and to the
key-value store, which answers the check on every authenticated request. Redis may run
without persistence, so the store can lose them all in a restart or a flush; a sentinel
key says the store holds the ledger's revocations. When a check finds the sentinel
missing, one worker (the one that takes the load lock) copies the unexpired revocations
back into the store and sets the sentinel; meanwhile the others ask the ledger directly.
The in-memory store starts empty at every process start, so the same path restores
revocations after a restart of the service itself.

Checks fail closed: when the store or the ledger cannot answer, the error propagates
and the request is answered 503 with Retry-After, never let through.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Protocol

import structlog

from app.core.security.tokens import TokenClaims
from app.core.store import KeyValueStore, StoreUnavailableError

logger = structlog.get_logger(__name__)

JTI_PREFIX = "revoked-jti:"
FAMILY_PREFIX = "revoked-family:"
# Present while the store holds every unexpired revocation of the ledger.
LOADED_KEY = "revocations-loaded"
LOAD_LOCK_KEY = "revocations-load-lock"
# A worker that dies while loading holds the lock at most this long.
LOAD_LOCK_SECONDS = 60


class RevocationLedger(Protocol):
    """The durable copy of every revocation, keyed like the store's, with expiry times."""

    async def record(self, key: str, expires_at: datetime) -> bool:
        """Keep `key` until `expires_at`; False when it was already kept (nothing changes)."""
        ...

    async def contains_any(self, keys: Sequence[str]) -> bool:
        """Whether any of `keys` is kept and unexpired."""
        ...

    async def unexpired(self) -> Sequence[tuple[str, datetime]]:
        """Every kept key that has not expired, with its expiry time."""
        ...


class Revocations:
    """Revoke tokens and families, and check a token against both, store first."""

    def __init__(
        self,
        store: KeyValueStore,
        ledger: RevocationLedger,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`clock` gives aware UTC now; tests pass one they can move forward."""
        self.store = store
        self.ledger = ledger
        self._clock = clock

    async def revoke(self, claims: TokenClaims) -> None:
        """Refuse this token from now on."""
        await self._remember(JTI_PREFIX + claims.jti, claims.expires_at)

    async def revoke_family(self, family: str, *, ttl_seconds: int) -> None:
        """Refuse every token of a sign-in, the ones rotated from it included.

        `ttl_seconds` is the longest lifetime a token of the family can have: every one of
        them was issued before now, so all have expired when the mark does.
        """
        expires_at = self._clock() + timedelta(seconds=ttl_seconds)
        await self._remember(FAMILY_PREFIX + family, expires_at)

    async def consume(self, claims: TokenClaims) -> bool:
        """Spend a single-use token; False when it was already spent or revoked (a replay).

        The ledger's unique key is the one atomic claim, so two workers racing with the
        same token cannot both win, whatever the store lost. The store is asked first, so
        a store outage fails the call before the token is spent.
        """
        key = JTI_PREFIX + claims.jti
        if await self._store_is_loaded() and await self.store.get(key) is not None:
            return False
        if not await self.ledger.record(key, claims.expires_at):
            return False
        await self.store.set(key, "1", ttl_seconds=self._seconds_until(claims.expires_at))
        return True

    async def is_refused(self, claims: TokenClaims) -> bool:
        """True once the token was logged out or spent, or its whole sign-in was ended."""
        refused, _ = await self.check(claims)
        return refused

    async def check(
        self, claims: TokenClaims, *, also: Sequence[str] = ()
    ) -> tuple[bool, list[str | None]]:
        """`is_refused`, plus the values of the store keys `also`, in one round trip.

        Callers that need other keys on every request (the signed-in user's) fetch them
        with the check instead of after it.
        """
        keys = [JTI_PREFIX + claims.jti, FAMILY_PREFIX + claims.family]
        values = await self.store.get_many([LOADED_KEY, *keys, *also])
        loaded, kept, extra = values[0], values[1 : len(keys) + 1], values[len(keys) + 1 :]
        if loaded is None:
            return await self._any_kept(keys), extra
        return any(value is not None for value in kept), extra

    async def is_family_revoked(self, family: str) -> bool:
        """True once a reuse or a logout ended the sign-in this family belongs to."""
        return await self._any_kept([FAMILY_PREFIX + family])

    async def _remember(self, key: str, expires_at: datetime) -> None:
        """The ledger first, so a revocation the store lost can always be restored."""
        await self.ledger.record(key, expires_at)
        await self.store.set(key, "1", ttl_seconds=self._seconds_until(expires_at))

    async def _any_kept(self, keys: Sequence[str]) -> bool:
        if not await self._store_is_loaded():
            return await self.ledger.contains_any(keys)
        return any(value is not None for value in await self.store.get_many(keys))

    async def _store_is_loaded(self) -> bool:
        """Whether the store can answer alone; reloads it when this worker takes the lock.

        False while another worker is loading: the caller asks the ledger meanwhile.
        """
        if await self.store.get(LOADED_KEY) is not None:
            return True
        if not await self.store.add(LOAD_LOCK_KEY, "1", ttl_seconds=LOAD_LOCK_SECONDS):
            return False
        try:
            restored = await self._reload()
        except BaseException:
            with suppress(StoreUnavailableError):
                await self.store.delete(LOAD_LOCK_KEY)
            raise
        await self.store.delete(LOAD_LOCK_KEY)
        logger.info("revocations_reloaded", restored=restored)
        return True

    async def _reload(self) -> int:
        """Copy the ledger's unexpired revocations into the store, then set the sentinel."""
        kept = await self.ledger.unexpired()
        for key, expires_at in kept:
            await self.store.set(key, "1", ttl_seconds=self._seconds_until(expires_at))
        await self.store.set(LOADED_KEY, "1")
        return len(kept)

    def _seconds_until(self, moment: datetime) -> int:
        """Whole seconds left, rounded up so a key never expires before its token."""
        return max(1, math.ceil((moment - self._clock()).total_seconds()))
