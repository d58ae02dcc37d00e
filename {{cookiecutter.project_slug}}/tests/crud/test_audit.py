"""The audit log's chains: appends link up, and edits or deletions are caught where made."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import delete, select, update

from app.core.audit_chain import GENESIS_HASH, entry_fields, entry_hash
from app.core.config import Settings
from app.crud import audit as audit_crud
from app.crud.audit_verify import verify
from app.db.session import Database
from app.models import AuditEntry


async def _append(
    database: Database, count: int, organization_id: uuid.UUID | None = None
) -> list[AuditEntry]:
    """`count` entries, each committed in a transaction of its own."""
    entries = []
    for n in range(count):
        async with database.transaction() as session:
            entry = await audit_crud.record(
                session,
                action="test.event",
                organization_id=organization_id,
                actor_id=uuid.uuid4(),
                target_type="thing",
                target_id=str(n),
                details={"n": n, "note": "ünïcode"},
            )
        entries.append(entry)
    return entries


async def _verified(database: Database) -> tuple[bool, int | None, uuid.UUID | None, str]:
    async with database.transaction() as session:
        outcome = await verify(session)
    broken = outcome.first_break
    if broken is None:
        return True, None, None, ""
    return False, broken.sequence, broken.entry_id, broken.problem


async def test_appends_link_each_entry_to_the_one_before_it_per_organisation(
    database: Database,
) -> None:
    organization = uuid.uuid4()
    unowned = await _append(database, 3)
    owned = await _append(database, 2, organization)

    assert [entry.sequence for entry in unowned] == [1, 2, 3]
    assert [entry.sequence for entry in owned] == [1, 2]
    assert unowned[0].previous_hash == GENESIS_HASH == owned[0].previous_hash
    assert unowned[1].previous_hash == unowned[0].entry_hash
    assert owned[1].previous_hash == owned[0].entry_hash
    async with database.transaction() as session:
        outcome = await verify(session)
        stored = await session.get(AuditEntry, unowned[2].id)
    assert (outcome.ok, outcome.chains, outcome.entries) == (True, 2, 5)
    assert stored is not None
    assert stored.entry_hash == entry_hash(audit_crud.fields_of(stored))


async def test_an_edited_row_breaks_the_chain_at_exactly_that_row(database: Database) -> None:
    entries = await _append(database, 4)
    async with database.transaction() as session:
        await session.execute(
            update(AuditEntry).where(AuditEntry.id == entries[1].id).values(details={"n": 99})
        )

    ok, sequence, entry_id, problem = await _verified(database)

    assert not ok
    assert (sequence, entry_id) == (2, entries[1].id)
    assert "does not match its contents" in problem


async def test_an_edit_with_its_hash_recomputed_is_caught_at_the_next_row(
    database: Database,
) -> None:
    entries = await _append(database, 3)
    forged = entries[0]
    fields = entry_fields(
        entry_id=forged.id,
        organization_id=None,
        sequence=1,
        previous_hash=GENESIS_HASH,
        actor_id=None,
        action=forged.action,
        target_type=forged.target_type,
        target_id=forged.target_id,
        request_id=None,
        client_address=None,
        created_at=forged.created_at,
        details=forged.details,
    )
    async with database.transaction() as session:
        await session.execute(
            update(AuditEntry)
            .where(AuditEntry.id == forged.id)
            .values(actor_id=None, entry_hash=entry_hash(fields))
        )

    ok, sequence, entry_id, problem = await _verified(database)

    assert not ok
    assert (sequence, entry_id) == (2, entries[1].id)
    assert "previous_hash" in problem


async def test_a_deleted_row_is_caught_where_it_was(database: Database) -> None:
    entries = await _append(database, 4)
    async with database.transaction() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.id == entries[1].id))

    ok, sequence, entry_id, problem = await _verified(database)

    assert not ok
    assert (sequence, entry_id) == (2, entries[2].id)
    assert "entry 2 is missing" in problem


async def test_deleting_the_newest_rows_is_caught_by_the_head(database: Database) -> None:
    entries = await _append(database, 3)
    async with database.transaction() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.id == entries[2].id))

    ok, sequence, entry_id, problem = await _verified(database)

    assert not ok
    assert (sequence, entry_id) == (3, None)
    assert "the head is at sequence 3 but the chain ends at 2" in problem


async def _record_then_fail(database: Database) -> None:
    """An action that records itself, then fails before its transaction commits."""
    async with database.transaction() as session:
        await audit_crud.record(
            session, action="test.rolled_back", organization_id=None, actor_id=None
        )
        raise RuntimeError("action failed")


async def test_a_rolled_back_action_leaves_no_entry_and_no_gap(database: Database) -> None:
    with pytest.raises(RuntimeError, match="action failed"):
        await _record_then_fail(database)
    after = await _append(database, 1)

    async with database.transaction() as session:
        actions = (await session.scalars(select(AuditEntry.action))).all()
    assert actions == ["test.event"]
    assert after[0].sequence == 1
    assert (await _verified(database))[0]


async def test_concurrent_appends_keep_one_unbroken_chain(database: Database) -> None:
    """Appends on many connections at once: each takes the head in turn, none forks it."""
    organization = uuid.uuid4()

    async def append_one(n: int) -> int:
        async with database.transaction() as session:
            entry = await audit_crud.record(
                session,
                action="test.concurrent",
                organization_id=organization if n % 2 else None,
                actor_id=None,
                details={"n": n},
            )
            # Hold the transaction open across a turn of the loop, so others pile up on it.
            await asyncio.sleep(0)
            return entry.sequence

    sequences = await asyncio.gather(*(append_one(n) for n in range(30)))

    assert sorted(sequences) == sorted([*range(1, 16), *range(1, 16)])
    async with database.transaction() as session:
        outcome = await verify(session)
    assert (outcome.ok, outcome.chains, outcome.entries) == (True, 2, 30)


@pytest.mark.postgres
async def test_appends_from_separate_engines_keep_one_chain_on_postgresql(
    database: Database, settings: Settings
) -> None:
    """Engines of their own, as worker processes have, all appending to one chain at once."""
    if database.engine.dialect.name != "postgresql":
        pytest.skip("set TEST_DATABASE_URL to run against PostgreSQL")
    workers = [Database(settings) for _ in range(4)]
    started = asyncio.Barrier(len(workers))

    async def append_many(worker: Database, number: int) -> None:
        await started.wait()
        for n in range(15):
            async with worker.transaction() as session:
                await audit_crud.record(
                    session,
                    action="test.worker",
                    organization_id=None,
                    actor_id=None,
                    details={"worker": number, "n": n},
                )

    try:
        await asyncio.gather(*(append_many(worker, n) for n, worker in enumerate(workers)))
    finally:
        for worker in workers:
            await worker.dispose()

    async with database.transaction() as session:
        sequences = (await session.scalars(select(AuditEntry.sequence))).all()
        outcome = await verify(session)
    assert sorted(sequences) == list(range(1, 61))
    assert (outcome.ok, outcome.entries) == (True, 60)
