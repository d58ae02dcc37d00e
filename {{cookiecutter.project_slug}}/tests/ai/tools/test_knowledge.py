"""`search_knowledge` is scoped to the calling agent's bases in the run's organisation."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import pytest

from app.ai.knowledge import ingestion, repository
from app.ai.knowledge.chunking import ChunkingOptions
from app.ai.knowledge.embedders.source import EmbedderSource
from app.ai.knowledge.repository import DocumentUpload
from app.ai.providers.factory import ProviderFactory
from app.ai.tools.base import ToolContext, ToolError
from app.ai.tools.builtin.knowledge import SearchKnowledgeArgs, SearchKnowledgeTool
from app.core.config import Settings
from app.crud import organization as organization_crud
from app.db.session import Database
from app.models import AgentKnowledgeBase
from tests.support.builders import add_agent, add_user

QUESTION = SearchKnowledgeArgs(query="paid leave days")


@pytest.fixture
async def embedders(settings: Settings) -> AsyncIterator[EmbedderSource]:
    providers = ProviderFactory(settings)
    source = EmbedderSource(settings, providers)
    yield source
    await source.aclose()
    await providers.aclose()


@pytest.fixture
def tool(embedders: EmbedderSource) -> SearchKnowledgeTool:
    return SearchKnowledgeTool(embedders, candidates=20)


async def _agent_with_a_base(
    database: Database, embedders: EmbedderSource, *, linked: bool = True
) -> tuple[uuid.UUID, uuid.UUID]:
    """(owner id, agent id) of an agent whose owner has one indexed base."""
    async with database.transaction() as session:
        owner = await add_user(session)
        agent = await add_agent(session, owner_id=owner.id)
        workspace = await organization_crud.get_personal_id(session, user_id=owner.id)
        assert workspace is not None
        base = await repository.create_base(
            session,
            organization_id=workspace,
            owner_id=owner.id,
            name="hr",
            embedder=embedders.get(),
        )
        if linked:
            session.add(AgentKnowledgeBase(agent_id=agent.id, base_id=base.id))
    await ingestion.ingest(
        database,
        embedders.get(),
        organization_id=workspace,
        base_id=base.id,
        upload=DocumentUpload("leave.md", b"Staff get 25 paid leave days.", "text/markdown"),
        options=ChunkingOptions(),
    )
    return owner.id, agent.id


async def test_the_agents_linked_base_is_searched(
    tool: SearchKnowledgeTool, database: Database, embedders: EmbedderSource
) -> None:
    owner_id, agent_id = await _agent_with_a_base(database, embedders)

    answer = json.loads(
        await tool.run(QUESTION, ToolContext(owner_id, database, agent_id=agent_id))
    )

    [result] = answer["results"]
    assert result["source"] == "leave.md"
    assert isinstance(result["chunk_id"], int)
    assert "chunk" in answer["citation"]


async def test_another_users_agent_id_finds_nothing(
    tool: SearchKnowledgeTool, database: Database, embedders: EmbedderSource
) -> None:
    _, agent_id = await _agent_with_a_base(database, embedders)
    async with database.transaction() as session:
        stranger = await add_user(session)

    with pytest.raises(ToolError, match="no knowledge bases"):
        await tool.run(QUESTION, ToolContext(stranger.id, database, agent_id=agent_id))


async def test_a_run_in_another_organisation_finds_nothing(
    tool: SearchKnowledgeTool, database: Database, embedders: EmbedderSource
) -> None:
    owner_id, agent_id = await _agent_with_a_base(database, embedders)
    async with database.transaction() as session:
        team = await organization_crud.create(session, name="Acme", owner_id=owner_id)
    context = ToolContext(owner_id, database, agent_id=agent_id, organization_id=team.id)

    with pytest.raises(ToolError, match="no knowledge bases"):
        await tool.run(QUESTION, context)


async def test_an_agent_without_links_is_told_so(
    tool: SearchKnowledgeTool, database: Database, embedders: EmbedderSource
) -> None:
    owner_id, agent_id = await _agent_with_a_base(database, embedders, linked=False)

    with pytest.raises(ToolError, match="no knowledge bases"):
        await tool.run(QUESTION, ToolContext(owner_id, database, agent_id=agent_id))


async def test_a_call_outside_a_run_is_refused(
    tool: SearchKnowledgeTool, database: Database
) -> None:
    with pytest.raises(ToolError, match="in a run"):
        await tool.run(QUESTION, ToolContext(uuid.uuid4(), database))
