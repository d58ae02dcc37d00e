"""Exact search on SQLite: fine for development and small data, not for millions of chunks.

Vector search reads every vector of the bases searched and ranks them in NumPy (a
matrix-vector product), or, when the sqlite-vec extension is installed and this
Python's sqlite3 may load extensions, ranks them inside SQLite with
`vec_distance_cosine`. Full-text search uses the FTS5 index the migration keeps in
step with the chunks, ranked by BM25 with headings weighted double.
"""

from __future__ import annotations

import importlib
import importlib.util
import sqlite3

import numpy as np
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.knowledge.embedders.base import Vector
from app.ai.knowledge.stores.base import (
    OWNED_BASES_SQL,
    RankedChunk,
    SearchBackend,
    SearchScope,
    scope_bind_params,
)

_IN_SCOPE = f"base_id IN ({OWNED_BASES_SQL}) AND embedding_model = :embedding_model"
_VEC_NEAREST = text(
    "SELECT id, 1 - vec_distance_cosine(embedding, :vector) AS similarity "  # noqa: S608
    f"FROM knowledge_chunks WHERE {_IN_SCOPE} ORDER BY similarity DESC LIMIT :limit"
).bindparams(*scope_bind_params())
_MATCHING = text(
    "SELECT c.id, -bm25(knowledge_chunks_fts, 2.0, 1.0) AS score "  # noqa: S608
    "FROM knowledge_chunks_fts JOIN knowledge_chunks AS c ON c.id = knowledge_chunks_fts.rowid "
    f"WHERE knowledge_chunks_fts MATCH :query AND c.{_IN_SCOPE} "
    "ORDER BY score DESC LIMIT :limit"
).bindparams(*scope_bind_params())
_VEC_LOADED = "sqlite_vec_loaded"


class SQLiteSearch(SearchBackend):
    """Exact cosine ranking and FTS5 BM25 ranking over the scope's chunks."""

    dialect = "sqlite"

    async def nearest(
        self, session: AsyncSession, scope: SearchScope, vector: Vector, limit: int
    ) -> list[RankedChunk]:
        """The `limit` chunks closest to `vector`: sqlite-vec when loaded, numpy otherwise."""
        parameters = scope.parameters()
        if await _vec_functions(session):
            ranked = await session.execute(
                _VEC_NEAREST, {**parameters, "vector": vector.tobytes(), "limit": limit}
            )
            return [RankedChunk(int(row[0]), float(row[1])) for row in ranked]
        rows = await _scope_vectors(session, scope)
        if not rows:
            return []
        ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        matrix = np.frombuffer(b"".join(row[1] for row in rows), dtype="<f4")
        similarities = matrix.reshape(len(rows), scope.dimension) @ vector
        best = np.argpartition(-similarities, limit - 1)[:limit] if len(rows) > limit else None
        order = (
            best[np.argsort(-similarities[best])] if best is not None else np.argsort(-similarities)
        )
        return [RankedChunk(int(ids[i]), float(similarities[i])) for i in order]

    async def matching(
        self, session: AsyncSession, scope: SearchScope, words: list[str], limit: int
    ) -> list[RankedChunk]:
        """The `limit` chunks that best match any of `words`, by FTS5 BM25."""
        if not words:
            return []
        query = " OR ".join(f'"{word}"' for word in words)
        rows = await session.execute(
            _MATCHING, {**scope.parameters(), "query": query, "limit": limit}
        )
        return [RankedChunk(int(row[0]), float(row[1])) for row in rows]


async def _scope_vectors(session: AsyncSession, scope: SearchScope) -> list[tuple[int, bytes]]:
    """Every (id, vector) in scope, read through the driver rather than SQLAlchemy.

    SQLAlchemy's row handling costs several times the read itself for tens of thousands
    of BLOBs.
    """
    marks = ", ".join("?" for _ in scope.base_ids)
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    cursor = await raw.driver_connection.execute(  # type: ignore[union-attr]
        "SELECT id, embedding FROM knowledge_chunks WHERE base_id IN ("  # noqa: S608
        f"SELECT id FROM knowledge_bases WHERE organization_id = ? AND id IN ({marks})"
        ") AND embedding_model = ?",
        # SQLAlchemy's Uuid type stores ids as 32 hex digits on SQLite.
        [
            scope.organization_id.hex,
            *(base_id.hex for base_id in scope.base_ids),
            scope.embedding_model,
        ],
    )
    return list(await cursor.fetchall())


async def _vec_functions(session: AsyncSession) -> bool:
    """Load sqlite-vec into this connection once, if it is installed and may be loaded."""
    if importlib.util.find_spec("sqlite_vec") is None:
        return False
    if not hasattr(sqlite3.Connection, "enable_load_extension"):
        return False  # this Python's sqlite3 was built without extension loading
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    if _VEC_LOADED not in raw.info:
        driver = raw.driver_connection
        path = importlib.import_module("sqlite_vec").loadable_path()
        try:
            await driver.enable_load_extension(True)  # type: ignore[union-attr]
            await driver.load_extension(path)  # type: ignore[union-attr]
            await driver.enable_load_extension(False)  # type: ignore[union-attr]
        except sqlite3.Error:
            raw.info[_VEC_LOADED] = False
        else:
            raw.info[_VEC_LOADED] = True
    return bool(raw.info[_VEC_LOADED])
