"""Token revocation: kept in the database, answered from the store, restored when it forgets."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from app.core.config import Settings
from app.core.security.revocation import (
    FAMILY_PREFIX,
    JTI_PREFIX,
    LOAD_LOCK_KEY,
    LOADED_KEY,
    Revocations,
)
from app.core.security.tokens import TokenClaims, TokenType
from app.core.store import MemoryStore
from app.crud.revocation import DatabaseRevocationLedger
from app.db.session import Database
from app.models import TokenRevocation


class FakeClock:
    """Monotonic seconds that move only when a test says so, so expiry needs no sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ledger(database: Database) -> DatabaseRevocationLedger:
    return DatabaseRevocationLedger(database)


@pytest.fixture
def revocations(ledger: DatabaseRevocationLedger) -> Revocations:
    return Revocations(MemoryStore(), ledger)


def _claims(seconds: int = 60, family: str = "") -> TokenClaims:
    jti = uuid.uuid4().hex
    return TokenClaims(
        subject=uuid.uuid4(),
        token_type=TokenType.REFRESH,
        jti=jti,
        expires_at=datetime.now(UTC) + timedelta(seconds=seconds),
        family=family or jti,
    )


async def _rows(database: Database) -> int:
    async with database.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(TokenRevocation)) or 0)


async def test_revoked_tokens_are_refused(revocations: Revocations) -> None:
    claims = _claims()
    assert not await revocations.is_refused(claims)
    await revocations.revoke(claims)
    assert await revocations.is_refused(claims)
    assert not await revocations.is_refused(_claims())


async def test_a_single_use_token_can_be_consumed_once(revocations: Revocations) -> None:
    claims = _claims()
    assert await revocations.consume(claims) is True
    assert await revocations.consume(claims) is False
    assert await revocations.is_refused(claims)


async def test_a_revoked_token_cannot_be_consumed(revocations: Revocations) -> None:
    claims = _claims()
    await revocations.revoke(claims)
    assert await revocations.consume(claims) is False


async def test_a_revoked_family_refuses_every_token_of_it(revocations: Revocations) -> None:
    first, rotated, other = _claims(family="fam-1"), _claims(family="fam-1"), _claims()
    await revocations.revoke_family("fam-1", ttl_seconds=30)
    assert await revocations.is_family_revoked("fam-1")
    assert await revocations.is_refused(first)
    assert await revocations.is_refused(rotated)
    assert not await revocations.is_refused(other)


async def test_the_store_forgets_a_revocation_when_its_token_expires(
    ledger: DatabaseRevocationLedger,
) -> None:
    clock = FakeClock()
    revocations = Revocations(MemoryStore(clock=clock), ledger)
    claims = _claims(seconds=30)
    assert not await revocations.is_refused(claims)
    await revocations.revoke(claims)
    clock.now += 29
    assert await revocations.is_refused(claims)
    clock.now += 3
    assert not await revocations.is_refused(claims)


async def test_every_revocation_is_also_a_database_row(
    revocations: Revocations, database: Database
) -> None:
    await revocations.revoke(_claims())
    await revocations.consume(_claims())
    await revocations.revoke_family("fam-2", ttl_seconds=60)
    assert await _rows(database) == 3


async def test_a_store_that_lost_everything_is_refilled_from_the_database(
    ledger: DatabaseRevocationLedger,
) -> None:
    """A Redis restart without persistence, or a restart of a process on the memory store."""
    logged_out, spent, family = _claims(), _claims(), _claims(family="fam-3")
    before = Revocations(MemoryStore(), ledger)
    await before.revoke(logged_out)
    assert await before.consume(spent)
    await before.revoke_family("fam-3", ttl_seconds=60)

    emptied = MemoryStore()
    after = Revocations(emptied, ledger)
    assert await after.is_refused(logged_out)
    assert await after.consume(spent) is False
    assert await after.is_refused(family)
    assert await emptied.get(LOADED_KEY) is not None
    assert await emptied.get(JTI_PREFIX + logged_out.jti) is not None
    assert await emptied.get(FAMILY_PREFIX + "fam-3") is not None
    assert await emptied.get(LOAD_LOCK_KEY) is None


async def test_while_another_worker_reloads_checks_ask_the_database(
    ledger: DatabaseRevocationLedger,
) -> None:
    claims = _claims()
    await Revocations(MemoryStore(), ledger).revoke(claims)
    store = MemoryStore()
    await store.add(LOAD_LOCK_KEY, "another worker", ttl_seconds=60)
    revocations = Revocations(store, ledger)
    assert await revocations.is_refused(claims)
    assert not await revocations.is_refused(_claims())
    assert await revocations.consume(claims) is False
    assert await store.get(LOADED_KEY) is None


async def test_expired_revocations_are_not_restored_and_are_pruned_on_write(
    ledger: DatabaseRevocationLedger, database: Database
) -> None:
    past = datetime.now(UTC) - timedelta(seconds=1)
    assert await ledger.record(JTI_PREFIX + "long-gone", past)
    assert await _rows(database) == 1
    store = MemoryStore()
    revocations = Revocations(store, ledger)
    assert not await revocations.is_refused(_claims())
    assert await store.get(JTI_PREFIX + "long-gone") is None
    await revocations.revoke(_claims())
    assert await _rows(database) == 1


async def test_an_unreachable_database_fails_the_check_closed(
    settings: Settings, tmp_path: Path
) -> None:
    """A check that cannot consult its ledger raises (a 503), and the next one tries again."""
    unreachable = settings.model_copy(
        update={"database_url": f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}"}
    )
    database = Database(unreachable)
    store = MemoryStore()
    revocations = Revocations(store, DatabaseRevocationLedger(database))
    try:
        with pytest.raises(OperationalError):
            await revocations.is_refused(_claims())
        assert await store.get(LOAD_LOCK_KEY) is None
        assert await store.get(LOADED_KEY) is None
    finally:
        await database.dispose()
