"""The audit log: appending to an organisation's hash chain, and reading entries back.

An append locks its chain's head row (an UPDATE ... RETURNING, which PostgreSQL holds
until the transaction ends and SQLite serialises with every other write), so appends from
any number of processes form one unbroken chain. The head is locked last in a transaction
that records an action, and for as short as that transaction lasts.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.audit_chain import GENESIS_HASH, chain_key, entry_fields, entry_hash
from app.crud.base import paginate
from app.db.types import utc_now
from app.models.audit import AuditChainHead, AuditEntry

# Rows the export reads per round trip.
EXPORT_BATCH = 500


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """What one entry says, before it has a place in a chain."""

    action: str
    actor_id: uuid.UUID | None = None
    target_type: str | None = None
    target_id: uuid.UUID | str | None = None
    request_id: str | None = None
    client_address: str | None = None
    details: dict[str, Any] | None = None


async def record(
    session: AsyncSession,
    *,
    action: str,
    organization_id: uuid.UUID | None,
    actor_id: uuid.UUID | None = None,
    target_type: str | None = None,
    target_id: uuid.UUID | str | None = None,
    request_id: str | None = None,
    client_address: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to its organisation's chain, in the session's transaction."""
    event = AuditEvent(
        action, actor_id, target_type, target_id, request_id, client_address, details
    )
    [entry] = await record_all(session, organization_id=organization_id, events=[event])
    return entry


async def record_all(
    session: AsyncSession, *, organization_id: uuid.UUID | None, events: Sequence[AuditEvent]
) -> list[AuditEntry]:
    """Append entries in order to one chain, taking its head once for all of them."""
    if not events:
        return []
    key = chain_key(organization_id)
    last, previous_hash = await _advance_head(session, key, len(events))
    created_at = utc_now()
    entries = []
    for sequence, event in enumerate(events, start=last - len(events) + 1):
        entry = AuditEntry(
            id=uuid.uuid4(),
            organization_id=organization_id,
            sequence=sequence,
            actor_id=event.actor_id,
            action=event.action,
            target_type=event.target_type,
            target_id=None if event.target_id is None else str(event.target_id),
            request_id=event.request_id,
            client_address=event.client_address,
            created_at=created_at,
            details=event.details or {},
            previous_hash=previous_hash,
        )
        entry.entry_hash = previous_hash = entry_hash(fields_of(entry))
        entries.append(entry)
    session.add_all(entries)
    await session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.chain_id == key)
        .values(last_hash=previous_hash)
        .execution_options(synchronize_session=False)
    )
    return entries


def fields_of(entry: AuditEntry) -> dict[str, Any]:
    """What the entry's hash covers, read from the row."""
    return entry_fields(
        entry_id=entry.id,
        organization_id=entry.organization_id,
        sequence=entry.sequence,
        previous_hash=entry.previous_hash,
        actor_id=entry.actor_id,
        action=entry.action,
        target_type=entry.target_type,
        target_id=entry.target_id,
        request_id=entry.request_id,
        client_address=entry.client_address,
        created_at=entry.created_at,
        details=entry.details,
    )


async def _advance_head(session: AsyncSession, chain_id: uuid.UUID, count: int) -> tuple[int, str]:
    """Lock the chain's head, move it `count` on; the new last sequence and the hash before."""
    bump = (
        update(AuditChainHead)
        .where(AuditChainHead.chain_id == chain_id)
        .values(sequence=AuditChainHead.sequence + count)
        .returning(AuditChainHead.sequence, AuditChainHead.last_hash)
        .execution_options(synchronize_session=False)
    )
    row = (await session.execute(bump)).one_or_none()
    if row is None:
        # The chain's first entry: create its head unless a concurrent append just did.
        await session.execute(_insert_head(session, chain_id))
        row = (await session.execute(bump)).one()
    return int(row.sequence), str(row.last_hash)


def _insert_head(session: AsyncSession, chain_id: uuid.UUID) -> Any:
    """INSERT of an empty head that does nothing when the head exists."""
    values = {"chain_id": chain_id, "sequence": 0, "last_hash": GENESIS_HASH}
    if session.get_bind().dialect.name == "postgresql":
        return postgresql_insert(AuditChainHead).values(values).on_conflict_do_nothing()
    return sqlite_insert(AuditChainHead).values(values).on_conflict_do_nothing()


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which entries a listing or an export includes; None leaves a field unfiltered."""

    action: str | None = None
    actor_id: uuid.UUID | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _filtered(where: AuditFilter, organization_id: uuid.UUID | None) -> Select[AuditEntry]:
    """One chain's entries matching the filter, newest first (ties broken by id, so pages are stable).

    `organization_id` None reads the deployment's own chain: events of no known user.
    """
    column = AuditEntry.organization_id
    statement = select(AuditEntry).where(
        column.is_(None) if organization_id is None else column == organization_id
    )
    if where.action is not None:
        statement = statement.where(AuditEntry.action == where.action)
    if where.actor_id is not None:
        statement = statement.where(AuditEntry.actor_id == where.actor_id)
    if where.target_type is not None:
        statement = statement.where(AuditEntry.target_type == where.target_type)
    if where.target_id is not None:
        statement = statement.where(AuditEntry.target_id == where.target_id)
    if where.since is not None:
        statement = statement.where(AuditEntry.created_at >= where.since)
    if where.until is not None:
        statement = statement.where(AuditEntry.created_at < where.until)
    return statement.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())


async def get_page(
    session: AsyncSession,
    *,
    organization_id: uuid.UUID | None,
    where: AuditFilter,
    skip: int,
    limit: int,
) -> tuple[Sequence[AuditEntry], int]:
    """One page of one chain's matching entries, newest first, and how many match."""
    return await paginate(session, _filtered(where, organization_id), skip=skip, limit=limit)


async def stream(
    session: AsyncSession, *, organization_id: uuid.UUID | None, where: AuditFilter
) -> AsyncIterator[AuditEntry]:
    """One chain's matching entries, newest first, read in batches rather than all at once."""
    result = await session.stream_scalars(
        _filtered(where, organization_id).execution_options(yield_per=EXPORT_BATCH)
    )
    async for entry in result:
        yield entry
