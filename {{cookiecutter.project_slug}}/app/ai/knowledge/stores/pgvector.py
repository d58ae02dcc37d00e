"""pgvector on PostgreSQL: HNSW approximate nearest neighbours and tsvector full text.

The `embedding` column holds vectors of any size; the migration builds one partial HNSW
index (cosine distance) per common size, over `embedding::vector(N)` where
`dimension = N` (`halfvec(N)` above 2000 dimensions, pgvector's limit for full
precision). The query below repeats exactly that expression and condition, so the
planner can use the index; sizes without an index are searched exactly.

HNSW returns `hnsw.ef_search` candidates before other conditions (organisation, base, model)
filter them; pgvector 0.8's iterative scan keeps reading the graph until `limit` rows
pass, so a small base among many still gets full results.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import TextClause

from app.ai.knowledge.embedders.base import Vector
from app.ai.knowledge.stores.base import (
    OWNED_BASES_SQL,
    RankedChunk,
    SearchBackend,
    SearchScope,
    scope_bind_params,
)

# pgvector indexes `vector` up to 2000 dimensions with HNSW, `halfvec` up to 4000.
MAX_FULL_PRECISION_INDEX = 2000
TEXT_SEARCH_CONFIG = "english"
_IN_SCOPE = f"base_id IN ({OWNED_BASES_SQL}) AND embedding_model = :embedding_model"
_SEARCH_SETTINGS = text(
    "SELECT set_config('hnsw.ef_search', :ef_search, true), "
    "set_config('hnsw.iterative_scan', 'strict_order', true)"
)
_MATCHING = text(
    "SELECT id, ts_rank_cd(search_vector, query) AS score "  # noqa: S608 - constant SQL
    f"FROM knowledge_chunks, to_tsquery('{TEXT_SEARCH_CONFIG}', :terms) AS query "
    f"WHERE search_vector @@ query AND {_IN_SCOPE} "
    "ORDER BY score DESC, id LIMIT :limit"
).bindparams(*scope_bind_params())


def nearest_statement(dimension: int) -> TextClause:
    """The nearest-neighbour query for vectors of one size, shaped to match its HNSW index."""
    kind = "vector" if dimension <= MAX_FULL_PRECISION_INDEX else "halfvec"
    column = f"embedding::{kind}({int(dimension)})"
    query = f"CAST(CAST(:vector AS text) AS {kind}({int(dimension)}))"
    return text(
        f"SELECT id, 1 - ({column} <=> {query}) AS similarity "  # noqa: S608 - integers only
        f"FROM knowledge_chunks WHERE dimension = {int(dimension)} AND {_IN_SCOPE} "
        f"ORDER BY {column} <=> {query} LIMIT :limit"
    ).bindparams(*scope_bind_params())


class PgVectorSearch(SearchBackend):
    """HNSW cosine ranking and `ts_rank_cd` full-text ranking over the scope's chunks."""

    dialect = "postgresql"

    async def nearest(
        self, session: AsyncSession, scope: SearchScope, vector: Vector, limit: int
    ) -> list[RankedChunk]:
        """The `limit` chunks closest to `vector`, through the HNSW index."""
        # Settings local to the transaction: other queries keep the server's defaults.
        await session.execute(_SEARCH_SETTINGS, {"ef_search": str(max(40, min(limit, 1000)))})
        literal = "[" + ",".join(format(float(value), ".8g") for value in vector) + "]"
        rows = await session.execute(
            nearest_statement(scope.dimension),
            {**scope.parameters(), "vector": literal, "limit": limit},
        )
        return [RankedChunk(int(row[0]), float(row[1])) for row in rows]

    async def matching(
        self, session: AsyncSession, scope: SearchScope, words: list[str], limit: int
    ) -> list[RankedChunk]:
        """The `limit` chunks that best match any of `words`, by full-text rank."""
        if not words:
            return []
        rows = await session.execute(
            _MATCHING, {**scope.parameters(), "terms": " | ".join(words), "limit": limit}
        )
        return [RankedChunk(int(row[0]), float(row[1])) for row in rows]
