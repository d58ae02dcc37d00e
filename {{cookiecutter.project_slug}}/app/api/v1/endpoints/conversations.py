"""The active organisation's conversations and their messages."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from app.api.access import Access, require
from app.api.deps import PaginationDep, SessionDep
from app.api.v1.resources import ConversationDep, owned_agent
from app.crud import conversation as conversation_crud
from app.crud import message as message_crud
from app.models import Conversation
from app.schemas.common import Page, SafeText
from app.schemas.conversation import ConversationCreate, ConversationRead, ConversationUpdate
from app.schemas.message import MessageRead

router = APIRouter(prefix="/conversations", tags=["conversations"])


@router.get("", response_model=Page[ConversationRead])
async def list_conversations(
    access: Annotated[Access, require("conversations:read")],
    session: SessionDep,
    page: PaginationDep,
    agent_id: Annotated[uuid.UUID | None, Query(description="With this agent only")] = None,
    q: Annotated[SafeText | None, Query(max_length=100, description="Title contains")] = None,
) -> Page[ConversationRead]:
    """The organisation's conversations, newest first."""
    conversations, total = await conversation_crud.get_page(
        session,
        organization_id=access.organization_id,
        skip=page.skip,
        limit=page.limit,
        agent_id=agent_id,
        q=q,
    )
    return Page[ConversationRead].of(conversations, total, page)


@router.post("", response_model=ConversationRead, status_code=status.HTTP_201_CREATED)
async def create_conversation(
    access: Annotated[Access, require("conversations:write")],
    payload: ConversationCreate,
    session: SessionDep,
) -> Conversation:
    """Start a conversation with one of the organisation's agents."""
    agent = await owned_agent(
        session, organization_id=access.organization_id, agent_id=payload.agent_id
    )
    return await conversation_crud.create(
        session,
        organization_id=access.organization_id,
        owner_id=access.user_id,
        agent_id=agent.id,
        title=payload.title,
        meta=payload.meta,
    )


@router.get("/{conversation_id}", response_model=ConversationRead)
async def read_conversation(
    _access: Annotated[Access, require("conversations:read")], conversation: ConversationDep
) -> Conversation:
    """One of the organisation's conversations."""
    return conversation


@router.patch("/{conversation_id}", response_model=ConversationRead)
async def update_conversation(
    _access: Annotated[Access, require("conversations:write")],
    payload: ConversationUpdate,
    conversation: ConversationDep,
    session: SessionDep,
) -> Conversation:
    """Rename a conversation or replace its metadata."""
    return await conversation_crud.update(
        session, conversation=conversation, changes=payload.changes()
    )


@router.delete("/{conversation_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_conversation(
    _access: Annotated[Access, require("conversations:write")],
    conversation: ConversationDep,
    session: SessionDep,
) -> None:
    """Delete the conversation with its messages and executions."""
    await conversation_crud.delete(session, conversation=conversation)


@router.get("/{conversation_id}/messages", response_model=Page[MessageRead])
async def list_messages(
    _access: Annotated[Access, require("conversations:read")],
    conversation: ConversationDep,
    session: SessionDep,
    page: PaginationDep,
) -> Page[MessageRead]:
    """The conversation's messages, oldest first, in the order they were written."""
    messages, total = await message_crud.get_page(
        session, conversation_id=conversation.id, skip=page.skip, limit=page.limit
    )
    return Page[MessageRead].of(messages, total, page)
