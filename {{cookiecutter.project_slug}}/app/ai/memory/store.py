"""Remembering and recalling one user's memories with one agent, by meaning and by age.

Memories are per person within an organisation: every function takes both the
organisation and the user the memories are about, so a teammate never reads them.

A user's memories with an agent are few (MEMORY_MAX_PER_AGENT at most), so recall
compares the query with each of them exactly, in NumPy, on every database. A memory
nearly identical to one already kept (cosine similarity at or above the duplicate
threshold) replaces it rather than piling up. Recall ranks by relevance first and
recency second: similarity times a weight that falls from 1 towards `RECENCY_FLOOR` as
the memory ages, halving its distance to the floor every half-life.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.knowledge.embedders.base import Embedder, Vector
from app.db.types import utc_now
from app.models import Memory

# An old memory keeps this share of its relevance: age reorders near-ties, it never
# buries the one memory that answers the question.
RECENCY_FLOOR = 0.7
SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class Recalled:
    """A memory that matches a query, with how well and how recently."""

    memory: Memory
    similarity: float
    score: float


@dataclass(frozen=True, slots=True)
class MemoryPolicy:
    """How memories are deduplicated, aged and capped (from the MEMORY_* settings)."""

    duplicate_similarity: float = 0.9
    half_life_days: float = 30.0
    max_per_agent: int = 1000


@dataclass(frozen=True, slots=True)
class MemoryOwner:
    """Whose memories: the user they are about, in the organisation they were kept in."""

    organization_id: uuid.UUID
    user_id: uuid.UUID

    def conditions(self) -> list[ColumnElement[bool]]:
        """Only this user's memories in this organisation."""
        return [Memory.organization_id == self.organization_id, Memory.owner_id == self.user_id]


def _scope(owner: MemoryOwner, agent_id: uuid.UUID | None) -> list[ColumnElement[bool]]:
    agent = Memory.agent_id.is_(None) if agent_id is None else Memory.agent_id == agent_id
    return [*owner.conditions(), agent]


async def _comparable(
    session: AsyncSession, owner: MemoryOwner, agent_id: uuid.UUID | None, embedder: Embedder
) -> list[Memory]:
    """The memories embedded by this embedder's model: others live in another vector space."""
    rows = await session.scalars(
        select(Memory).where(
            *_scope(owner, agent_id),
            Memory.embedding_model == embedder.model,
            Memory.dimension == embedder.dimension,
        )
    )
    return list(rows)


def _similarities(memories: Sequence[Memory], vector: Vector) -> list[float]:
    import numpy as np

    if not memories:
        return []
    matrix = np.stack([memory.embedding for memory in memories])
    return [float(value) for value in matrix @ vector]


def recency_weight(updated_at: datetime, now: datetime, half_life_days: float) -> float:
    """1.0 for a memory kept just now, falling towards RECENCY_FLOOR as it ages."""
    age_days = max((now - updated_at).total_seconds(), 0.0) / SECONDS_PER_DAY
    return RECENCY_FLOOR + (1.0 - RECENCY_FLOOR) * float(0.5 ** (age_days / half_life_days))


async def remember(
    session: AsyncSession,
    embedder: Embedder,
    *,
    owner: MemoryOwner,
    agent_id: uuid.UUID | None,
    text: str,
    policy: MemoryPolicy,
) -> tuple[Memory, bool]:
    """Keep `text`; (the memory, True) when new, (the one it replaced, False) when a near-copy.

    Beyond `policy.max_per_agent` memories, the least recently kept ones are dropped.
    """
    vector = await embedder.embed_one(text)
    memories = await _comparable(session, owner, agent_id, embedder)
    similarities = _similarities(memories, vector)
    if similarities and max(similarities) >= policy.duplicate_similarity:
        kept = memories[similarities.index(max(similarities))]
        kept.text, kept.embedding, kept.updated_at = text, vector, utc_now()
        await session.flush()
        return kept, False
    memory = Memory(
        organization_id=owner.organization_id,
        owner_id=owner.user_id,
        agent_id=agent_id,
        text=text,
        embedding_model=embedder.model,
        dimension=embedder.dimension,
        embedding=vector,
    )
    session.add(memory)
    await session.flush()
    await _prune(session, owner, agent_id, policy.max_per_agent)
    return memory, True


async def _prune(
    session: AsyncSession, owner: MemoryOwner, agent_id: uuid.UUID | None, keep: int
) -> None:
    oldest = await session.scalars(
        select(Memory.id)
        .where(*_scope(owner, agent_id))
        .order_by(Memory.updated_at.desc(), Memory.id)
        .offset(keep)
    )
    dropped = list(oldest)
    if dropped:
        await session.execute(delete(Memory).where(Memory.id.in_(dropped)))


async def recall(
    session: AsyncSession,
    embedder: Embedder,
    *,
    owner: MemoryOwner,
    agent_id: uuid.UUID | None,
    query: str,
    limit: int,
    policy: MemoryPolicy,
) -> list[Recalled]:
    """The `limit` memories that best match `query`, weighed by recency, best first."""
    vector = await embedder.embed_one(query)
    memories = await _comparable(session, owner, agent_id, embedder)
    now = utc_now()
    ranked = sorted(
        (
            Recalled(
                memory=memory,
                similarity=round(similarity, 6),
                score=round(
                    similarity * recency_weight(memory.updated_at, now, policy.half_life_days), 6
                ),
            )
            for memory, similarity in zip(memories, _similarities(memories, vector), strict=True)
            if similarity > 0.0
        ),
        key=lambda found: (-found.score, str(found.memory.id)),
    )[:limit]
    for found in ranked:
        found.memory.recalled_at = now
    await session.flush()
    return ranked


async def list_memories(
    session: AsyncSession,
    *,
    owner: MemoryOwner,
    agent_id: uuid.UUID | None,
    skip: int,
    limit: int,
) -> tuple[list[Memory], int]:
    """A page of the owner's memories (one agent's when `agent_id` is given), newest first."""
    conditions = owner.conditions()
    if agent_id is not None:
        conditions.append(Memory.agent_id == agent_id)
    total = await session.scalar(select(func.count()).select_from(Memory).where(*conditions))
    rows = await session.scalars(
        select(Memory)
        .where(*conditions)
        .order_by(Memory.updated_at.desc(), Memory.id)
        .offset(skip)
        .limit(limit)
    )
    return list(rows), int(total or 0)


async def forget(session: AsyncSession, *, owner: MemoryOwner, memory_id: uuid.UUID) -> bool:
    """Erase one of the owner's memories; False when there was none."""
    result = await session.execute(
        delete(Memory).where(Memory.id == memory_id, *owner.conditions())
    )
    return bool(getattr(result, "rowcount", 0))


async def forget_all(
    session: AsyncSession, *, owner: MemoryOwner, agent_id: uuid.UUID | None = None
) -> int:
    """Erase every memory of the owner (with one agent, when given); how many went."""
    conditions = owner.conditions()
    if agent_id is not None:
        conditions.append(Memory.agent_id == agent_id)
    result = await session.execute(delete(Memory).where(*conditions))
    return int(getattr(result, "rowcount", 0) or 0)
