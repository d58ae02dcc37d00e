"""`search_knowledge`: an agent reads its linked knowledge bases, and cites what it used."""

from __future__ import annotations

import json
import uuid

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.knowledge import retrieval
from app.ai.knowledge.embedders.source import EmbedderSource
from app.ai.knowledge.repository import EmbeddingModelMismatchError
from app.ai.tools.base import Tool, ToolArguments, ToolContext, ToolError
from app.ai.tools.workspace import organization_of
from app.models import AgentKnowledgeBase, KnowledgeBase

CITATION_HINT = "Cite what you use as [chunk <chunk_id>] with its source."


class SearchKnowledgeArgs(ToolArguments):
    """A question in the user's words, and how many passages to read."""

    query: str = Field(min_length=1, max_length=1_000, description="What to look up.")
    top_k: int = Field(default=5, ge=1, le=10, description="How many passages to return.")


async def linked_base_ids(
    session: AsyncSession, *, organization_id: uuid.UUID, agent_id: uuid.UUID
) -> list[uuid.UUID]:
    """The agent's linked bases that belong to the run's organisation; none of another's."""
    rows = await session.scalars(
        select(KnowledgeBase.id)
        .join(AgentKnowledgeBase, AgentKnowledgeBase.base_id == KnowledgeBase.id)
        .where(
            AgentKnowledgeBase.agent_id == agent_id,
            KnowledgeBase.organization_id == organization_id,
        )
        .order_by(KnowledgeBase.id)
    )
    return list(rows)


class SearchKnowledgeTool(Tool[SearchKnowledgeArgs]):
    """Hybrid search over the bases linked to the calling agent, and nothing else."""

    name = "search_knowledge"
    description = (
        "Search the documents in this agent's knowledge bases. Returns the best matching "
        "passages, each with a chunk_id and its source document; quote them and cite the "
        "chunk ids you used."
    )
    arguments = SearchKnowledgeArgs
    timeout_seconds = 30.0

    def __init__(self, embedders: EmbedderSource, *, candidates: int) -> None:
        """`candidates` is how many chunks each ranking offers before fusion."""
        self._embedders = embedders
        self._candidates = candidates

    async def run(self, args: SearchKnowledgeArgs, context: ToolContext) -> str:
        """The passages as JSON: chunk id, source, heading, score and text, best first."""
        if context.agent_id is None:
            raise ToolError(
                "search_knowledge searches an agent's knowledge bases; call it in a run"
            )
        async with context.database.transaction() as session:
            organization_id = await organization_of(session, context)
            base_ids = await linked_base_ids(
                session, organization_id=organization_id, agent_id=context.agent_id
            )
        if not base_ids:
            raise ToolError("This agent has no knowledge bases linked; there is nothing to search")
        try:
            async with context.database.transaction() as session:
                results = await retrieval.search(
                    session,
                    self._embedders.get(),
                    organization_id=organization_id,
                    base_ids=base_ids,
                    query=args.query,
                    top_k=args.top_k,
                    candidates=self._candidates,
                )
        except EmbeddingModelMismatchError as exc:
            raise ToolError(exc.detail) from None
        return json.dumps(
            {
                "results": [
                    {
                        "chunk_id": result.chunk_id,
                        "source": result.source,
                        "source_url": result.source_url,
                        "heading": result.heading,
                        "score": result.score,
                        "text": result.text,
                    }
                    for result in results
                ],
                "citation": CITATION_HINT,
            },
            ensure_ascii=False,
        )
