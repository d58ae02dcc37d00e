"""Checking the audit log's hash chains, and naming the first link that does not hold."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.audit_chain import GENESIS_HASH, NO_ORGANIZATION, chain_key, entry_hash
from app.crud.audit import EXPORT_BATCH, fields_of
from app.models.audit import AuditChainHead, AuditEntry


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first entry at which a chain stops proving itself, and how."""

    organization_id: uuid.UUID | None
    sequence: int
    entry_id: uuid.UUID | None
    problem: str

    def describe(self) -> str:
        """One line for a terminal or a log."""
        chain = str(self.organization_id) if self.organization_id else "no organisation"
        entry = str(self.entry_id) if self.entry_id else "-"
        return f"chain {chain}, sequence {self.sequence}, entry {entry}: {self.problem}"


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of checking every chain: how much was checked and the first break."""

    chains: int
    entries: int
    first_break: ChainBreak | None

    @property
    def ok(self) -> bool:
        """Whether every chain held from its first entry to its head."""
        return self.first_break is None


def _organization(chain_id: uuid.UUID) -> uuid.UUID | None:
    return None if chain_id == NO_ORGANIZATION else chain_id


async def verify(session: AsyncSession) -> Verification:
    """Recompute every chain from its first entry; stop at the first broken link."""
    heads = {head.chain_id: head for head in (await session.scalars(select(AuditChainHead)))}
    organizations = await session.scalars(select(AuditEntry.organization_id).distinct())
    chain_ids = sorted({*heads, *(chain_key(org) for org in organizations)}, key=str)
    entries = 0
    for chain_id in chain_ids:
        checked, broken = await _verify_chain(session, chain_id, heads.get(chain_id))
        entries += checked
        if broken is not None:
            return Verification(chains=len(chain_ids), entries=entries, first_break=broken)
    return Verification(chains=len(chain_ids), entries=entries, first_break=None)


async def verify_one(session: AsyncSession, organization_id: uuid.UUID | None) -> Verification:
    """Recompute one organisation's chain (None: the deployment's) from its first entry."""
    key = chain_key(organization_id)
    head = await session.get(AuditChainHead, key)
    checked, broken = await _verify_chain(session, key, head)
    if head is None and checked == 0 and broken is not None:
        # No entry and no head: a chain that has not started yet holds.
        broken = None
    return Verification(chains=1, entries=checked, first_break=broken)


async def _verify_chain(
    session: AsyncSession, chain_id: uuid.UUID, head: AuditChainHead | None
) -> tuple[int, ChainBreak | None]:
    """How many entries of one chain held, and where it broke, if it did."""
    organization_id = _organization(chain_id)
    column = AuditEntry.organization_id
    statement = (
        select(AuditEntry)
        .where(column.is_(None) if organization_id is None else column == organization_id)
        .order_by(AuditEntry.sequence, AuditEntry.id)
        .execution_options(yield_per=EXPORT_BATCH)
    )
    expected, previous, checked = 1, GENESIS_HASH, 0

    def broken(sequence: int, entry_id: uuid.UUID | None, problem: str) -> ChainBreak:
        return ChainBreak(organization_id, sequence, entry_id, problem)

    async for entry in await session.stream_scalars(statement):
        if entry.sequence > expected:
            missing = (
                f"{expected}"
                if entry.sequence == expected + 1
                else f"{expected} to {entry.sequence - 1}"
            )
            return checked, broken(
                expected,
                entry.id,
                f"entry {missing} is missing (deleted); next stored is {entry.sequence}",
            )
        if entry.sequence < expected:
            return checked, broken(
                entry.sequence, entry.id, f"sequence {entry.sequence} appears twice"
            )
        if entry.previous_hash != previous:
            return checked, broken(
                entry.sequence,
                entry.id,
                f"previous_hash {entry.previous_hash} is not the hash of entry "
                f"{entry.sequence - 1} ({previous})",
            )
        computed = entry_hash(fields_of(entry))
        if computed != entry.entry_hash:
            return checked, broken(
                entry.sequence,
                entry.id,
                f"stored entry_hash {entry.entry_hash} does not match its contents ({computed})",
            )
        expected, previous, checked = expected + 1, entry.entry_hash, checked + 1
    last = expected - 1
    if head is None:
        return checked, broken(last, None, "the chain has entries but no head")
    if head.sequence != last:
        return checked, broken(
            last + 1,
            None,
            f"the head is at sequence {head.sequence} but the chain ends at {last}: "
            "later entries are missing (deleted)",
        )
    if head.last_hash != previous:
        return checked, broken(
            last, None, f"the head's hash {head.last_hash} is not the last entry's"
        )
    return checked, None
