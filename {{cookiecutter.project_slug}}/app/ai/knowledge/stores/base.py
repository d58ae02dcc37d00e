"""What every search backend does: nearest vectors and full-text matches within a scope."""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import Uuid, bindparam
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter

from app.ai.knowledge.embedders.base import Vector

# Every backend query keeps to chunks of bases the organisation holds, whatever ids it is given.
OWNED_BASES_SQL = (
    "SELECT id FROM knowledge_bases WHERE organization_id = :organization_id AND id IN :base_ids"
)


@dataclass(frozen=True, slots=True)
class SearchScope:
    """Which chunks a search may see: the organisation's given bases, embedded by one model."""

    organization_id: uuid.UUID
    base_ids: tuple[uuid.UUID, ...]
    embedding_model: str
    dimension: int

    def parameters(self) -> dict[str, object]:
        """Bind values for the scope's placeholders in backend SQL."""
        return {
            "organization_id": self.organization_id,
            "base_ids": list(self.base_ids),
            "embedding_model": self.embedding_model,
        }


@dataclass(frozen=True, slots=True)
class RankedChunk:
    """A chunk's id and its backend score; higher is better, lists come best first."""

    chunk_id: int
    score: float


class SearchBackend(ABC):
    """One database's way of ranking chunks; the repository picks it by dialect."""

    dialect: ClassVar[str]

    @abstractmethod
    async def nearest(
        self, session: AsyncSession, scope: SearchScope, vector: Vector, limit: int
    ) -> list[RankedChunk]:
        """Chunks by cosine similarity to `vector` (a unit vector), most similar first."""

    @abstractmethod
    async def matching(
        self, session: AsyncSession, scope: SearchScope, words: list[str], limit: int
    ) -> list[RankedChunk]:
        """Chunks containing any of `words` (letters and digits only), best match first."""


def scope_bind_params() -> list[BindParameter[object]]:
    """Typed ids (SQLite stores UUIDs as text), the `IN` list one placeholder per base."""
    return [
        bindparam("organization_id", type_=Uuid()),
        bindparam("base_ids", expanding=True, type_=Uuid()),
    ]
