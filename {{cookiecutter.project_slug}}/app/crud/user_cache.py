"""The signed-in user's account, kept briefly in the store so a request needs no row read.

An entry holds the account as it was read, token version included, under the user's id.
It serves a request only while the token's version is the entry's and the account is
active; anything else is decided by the database. Every change to a users row (seen by
`Database` after the transaction ends) overwrites the entry with a tombstone for the
entry's lifetime, and entries are only written where no key is (`add`, SET NX): a reader
that read the row just before a change cannot put the old account back afterwards.
A change to users that names no row (a bulk UPDATE) moves a generation on, which every
entry read under an older one fails.

The store is Redis when configured, so a change is seen by every worker at once; the
in-memory store is per process, so other workers see a change when their entry expires,
at most `user_cache_seconds` later.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog

from app.core.security.tokens import TokenClaims
from app.core.store import KeyValueStore, StoreUnavailableError
from app.db.tracking import RowChange
from app.models import User, UserRole

logger = structlog.get_logger(__name__)

USER_PREFIX = "user:"
GENERATION_KEY = "users-generation"
# Stands where an entry was, so that no reader fills it again while it lasts.
TOMBSTONE = "-"
USERS_TABLE = User.__tablename__


@dataclass(frozen=True, slots=True)
class Caller:
    """The account a request is made by, as read from its row moments ago."""

    id: uuid.UUID
    email: str
    full_name: str | None
    role: UserRole
    is_active: bool
    token_version: int
    created_at: datetime
    updated_at: datetime

    @property
    def is_admin(self) -> bool:
        """The same rule as `User.is_admin`."""
        return self.role is UserRole.ADMIN

    @classmethod
    def of(cls, user: User) -> Caller:
        """A copy of the row's fields, usable after its session has ended."""
        return cls(
            id=user.id,
            email=user.email,
            full_name=user.full_name,
            role=user.role,
            is_active=user.is_active,
            token_version=user.token_version,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )

    def dumps(self, generation: str) -> str:
        """The entry's text: the fields and the generation they were read under."""
        return json.dumps(
            [
                generation,
                str(self.id),
                self.email,
                self.full_name,
                self.role.value,
                self.is_active,
                self.token_version,
                self.created_at.isoformat(),
                self.updated_at.isoformat(),
            ]
        )

    @classmethod
    def loads(cls, text: str) -> tuple[Caller, str]:
        """An entry's account and generation."""
        generation, id_, email, full_name, role, active, version, created, updated = json.loads(
            text
        )
        caller = cls(
            id=uuid.UUID(id_),
            email=email,
            full_name=full_name,
            role=UserRole(role),
            is_active=bool(active),
            token_version=int(version),
            created_at=datetime.fromisoformat(created),
            updated_at=datetime.fromisoformat(updated),
        )
        return caller, str(generation)


class UserCache:
    """Entries for signed-in users; `ttl_seconds` of 0 keeps none (every request reads)."""

    def __init__(self, store: KeyValueStore, *, ttl_seconds: int) -> None:
        self.store = store
        self.ttl_seconds = ttl_seconds

    def keys(self, user_id: uuid.UUID) -> list[str]:
        """The store keys `lookup` and `remember` need, to fetch with other keys at once."""
        return [GENERATION_KEY, USER_PREFIX + str(user_id)] if self.ttl_seconds else []

    def lookup(self, values: Sequence[str | None], claims: TokenClaims) -> Caller | None:
        """The account from the fetched `keys`, if its entry can answer for this token."""
        if not values:
            return None
        generation, entry = values
        if entry is None or entry == TOMBSTONE:
            return None
        caller, entry_generation = Caller.loads(entry)
        if entry_generation != (generation or ""):
            return None
        if not caller.is_active or caller.token_version != claims.version:
            return None
        return caller

    async def remember(self, user: User, values: Sequence[str | None]) -> Caller:
        """The account read from its row; kept when no entry or tombstone stands there."""
        caller = Caller.of(user)
        if values and values[1] is None and user.is_active:
            entry = caller.dumps(values[0] or "")
            await self.store.add(USER_PREFIX + str(user.id), entry, ttl_seconds=self.ttl_seconds)
        return caller

    async def forget(self, changes: frozenset[RowChange]) -> None:
        """Drop the entries of changed users; a `Database` change listener, never raises.

        With the store away the entries cannot be reached, and nor can requests (their
        revocation check fails closed); an entry left behind lasts at most its lifetime.
        """
        rows = [change for change in changes if change.table == USERS_TABLE]
        if not rows or not self.ttl_seconds:
            return
        try:
            for change in rows:
                if change.key is None:
                    await self.store.set(GENERATION_KEY, uuid.uuid4().hex)
                else:
                    key = USER_PREFIX + str(change.key)
                    await self.store.set(key, TOMBSTONE, ttl_seconds=self.ttl_seconds)
        except StoreUnavailableError:
            logger.warning("user_cache_not_cleared", users=len(rows))
