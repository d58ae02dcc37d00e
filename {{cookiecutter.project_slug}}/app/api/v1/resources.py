"""Path dependencies that load one entity of the current user.

Another user's id is a 404 exactly like a missing one, so ids reveal nothing.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import CurrentUser, SessionDep
from app.core.errors import NotFoundError
from app.crud import agent as agent_crud
from app.crud import conversation as conversation_crud
from app.crud import execution as execution_crud
from app.models import Agent, Conversation, Execution


async def owned_agent(session: AsyncSession, *, owner_id: uuid.UUID, agent_id: uuid.UUID) -> Agent:
    """Load an agent named in a body or a path, refusing ids the owner does not have."""
    agent = await agent_crud.get(session, owner_id=owner_id, agent_id=agent_id)
    if agent is None:
        raise NotFoundError("Agent not found")
    return agent


async def owned_conversation(
    session: AsyncSession, *, owner_id: uuid.UUID, conversation_id: uuid.UUID
) -> Conversation:
    """Load a conversation named in a body or a path, refusing ids the owner does not have."""
    conversation = await conversation_crud.get(
        session, owner_id=owner_id, conversation_id=conversation_id
    )
    if conversation is None:
        raise NotFoundError("Conversation not found")
    return conversation


async def get_agent(
    agent_id: Annotated[uuid.UUID, Path(description="The agent's id")],
    user: CurrentUser,
    session: SessionDep,
) -> Agent:
    """The path's agent, if it is the current user's."""
    return await owned_agent(session, owner_id=user.id, agent_id=agent_id)


async def get_conversation(
    conversation_id: Annotated[uuid.UUID, Path(description="The conversation's id")],
    user: CurrentUser,
    session: SessionDep,
) -> Conversation:
    """The path's conversation, if it is the current user's."""
    return await owned_conversation(session, owner_id=user.id, conversation_id=conversation_id)


async def get_execution(
    execution_id: Annotated[uuid.UUID, Path(description="The execution's id")],
    user: CurrentUser,
    session: SessionDep,
) -> Execution:
    """The path's execution, if it is the current user's."""
    execution = await execution_crud.get(session, owner_id=user.id, execution_id=execution_id)
    if execution is None:
        raise NotFoundError("Execution not found")
    return execution


AgentDep = Annotated[Agent, Depends(get_agent)]
ConversationDep = Annotated[Conversation, Depends(get_conversation)]
ExecutionDep = Annotated[Execution, Depends(get_execution)]
