"""Revoked token ids and token families, remembered until their tokens would have expired."""

from __future__ import annotations

from app.core.security.tokens import TokenClaims
from app.core.store import KeyValueStore

_PREFIX = "revoked-jti:"
_FAMILY_PREFIX = "revoked-family:"


async def revoke(store: KeyValueStore, claims: TokenClaims) -> None:
    """Refuse this token from now on."""
    await store.set(_PREFIX + claims.jti, "1", ttl_seconds=claims.seconds_left())


async def consume(store: KeyValueStore, claims: TokenClaims) -> bool:
    """Revoke a single-use token; False when it was already used (a replay)."""
    return await store.add(_PREFIX + claims.jti, "1", ttl_seconds=claims.seconds_left())


async def is_revoked(store: KeyValueStore, jti: str) -> bool:
    """True once the token with this id was logged out or spent."""
    return await store.get(_PREFIX + jti) is not None


async def revoke_family(store: KeyValueStore, family: str, *, ttl_seconds: int) -> None:
    """Refuse every token of a sign-in, the ones rotated from it included.

    `ttl_seconds` is the longest lifetime a token of the family can have: every one of
    them was issued before now, so all have expired when the mark does.
    """
    await store.set(_FAMILY_PREFIX + family, "1", ttl_seconds=ttl_seconds)


async def is_family_revoked(store: KeyValueStore, family: str) -> bool:
    """True once a reuse or a logout ended the sign-in this family belongs to."""
    return await store.get(_FAMILY_PREFIX + family) is not None
