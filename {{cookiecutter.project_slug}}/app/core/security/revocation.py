"""Revoked token ids, remembered until the token would have expired anyway."""

from __future__ import annotations

from app.core.security.tokens import TokenClaims
from app.core.store import KeyValueStore

_PREFIX = "revoked-jti:"


async def revoke(store: KeyValueStore, claims: TokenClaims) -> None:
    """Refuse this token from now on."""
    await store.set(_PREFIX + claims.jti, "1", ttl_seconds=claims.seconds_left())


async def consume(store: KeyValueStore, claims: TokenClaims) -> bool:
    """Revoke a single-use token; False when it was already used (a replay)."""
    return await store.add(_PREFIX + claims.jti, "1", ttl_seconds=claims.seconds_left())


async def is_revoked(store: KeyValueStore, jti: str) -> bool:
    """True once the token with this id was logged out or spent."""
    return await store.get(_PREFIX + jti) is not None
