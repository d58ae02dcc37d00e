"""Path dependencies that load one entity the caller may reach, or a 404.

An entity of another organisation (or user) is a 404 exactly like a missing one.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.knowledge import repository as knowledge
from app.api.access import Access, get_access
from app.api.deps import SessionDep
from app.core.errors import NotFoundError
from app.crud import agent as agent_crud
from app.crud import conversation as conversation_crud
from app.crud import execution as execution_crud
from app.models import Agent, Conversation, Execution, KnowledgeBase, KnowledgeDocument


async def owned_agent(
    session: AsyncSession, *, organization_id: uuid.UUID, agent_id: uuid.UUID
) -> Agent:
    """Load an agent named in a body or a path, refusing ids the organisation does not have."""
    agent = await agent_crud.get(session, organization_id=organization_id, agent_id=agent_id)
    if agent is None:
        raise NotFoundError("Agent not found")
    return agent


async def owned_conversation(
    session: AsyncSession, *, organization_id: uuid.UUID, conversation_id: uuid.UUID
) -> Conversation:
    """Load a conversation named in a body or a path, refusing the organisation's others'."""
    conversation = await conversation_crud.get(
        session, organization_id=organization_id, conversation_id=conversation_id
    )
    if conversation is None:
        raise NotFoundError("Conversation not found")
    return conversation


async def get_agent(
    agent_id: Annotated[uuid.UUID, Path(description="The agent's id")],
    access: Annotated[Access, Depends(get_access)],
    session: SessionDep,
) -> Agent:
    """The path's agent, if it is in the active organisation."""
    return await owned_agent(session, organization_id=access.organization_id, agent_id=agent_id)


async def get_conversation(
    conversation_id: Annotated[uuid.UUID, Path(description="The conversation's id")],
    access: Annotated[Access, Depends(get_access)],
    session: SessionDep,
) -> Conversation:
    """The path's conversation, if it is in the active organisation."""
    return await owned_conversation(
        session, organization_id=access.organization_id, conversation_id=conversation_id
    )


async def get_execution(
    execution_id: Annotated[uuid.UUID, Path(description="The execution's id")],
    access: Annotated[Access, Depends(get_access)],
    session: SessionDep,
) -> Execution:
    """The path's execution, if it is in the active organisation."""
    execution = await execution_crud.get(
        session, organization_id=access.organization_id, execution_id=execution_id
    )
    if execution is None:
        raise NotFoundError("Execution not found")
    return execution


async def get_knowledge_base(
    base_id: Annotated[uuid.UUID, Path(description="The knowledge base's id")],
    access: Annotated[Access, Depends(get_access)],
    session: SessionDep,
) -> KnowledgeBase:
    """The path's knowledge base, if it is the active organisation's."""
    base = await knowledge.get_base(
        session, organization_id=access.organization_id, base_id=base_id
    )
    if base is None:
        raise NotFoundError("Knowledge base not found")
    return base


async def get_document(
    document_id: Annotated[uuid.UUID, Path(description="The document's id")],
    base: Annotated[KnowledgeBase, Depends(get_knowledge_base)],
    session: SessionDep,
) -> KnowledgeDocument:
    """The path's document, if it is in the path's base (which is the organisation's)."""
    document = await knowledge.get_document(
        session, organization_id=base.organization_id, document_id=document_id
    )
    if document is None or document.base_id != base.id:
        raise NotFoundError("Document not found")
    return document


AgentDep = Annotated[Agent, Depends(get_agent)]
ConversationDep = Annotated[Conversation, Depends(get_conversation)]
ExecutionDep = Annotated[Execution, Depends(get_execution)]
KnowledgeBaseDep = Annotated[KnowledgeBase, Depends(get_knowledge_base)]
DocumentDep = Annotated[KnowledgeDocument, Depends(get_document)]
