"""Conversation queries: organisation scoping, paging, filters, updates and cascading deletes."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.crud import conversation as conversation_crud
from app.models import Agent, Conversation, Execution, Message
from tests.support.builders import (
    add_agent,
    add_conversation,
    add_execution,
    add_message,
    add_user,
    count_rows,
    minutes_ago,
    workspace_of,
)


async def test_create_uses_the_default_title_and_empty_metadata(session: AsyncSession) -> None:
    owner = await add_user(session)
    agent = await add_agent(session, owner_id=owner.id)

    conversation = await conversation_crud.create(
        session, organization_id=agent.organization_id, owner_id=owner.id, agent_id=agent.id
    )

    assert conversation.title == "New conversation"
    assert conversation.meta == {}
    assert (conversation.owner_id, conversation.agent_id) == (owner.id, agent.id)
    assert conversation.organization_id == agent.organization_id


async def test_create_stores_metadata(session: AsyncSession) -> None:
    owner = await add_user(session)
    agent = await add_agent(session, owner_id=owner.id)

    created = await conversation_crud.create(
        session,
        organization_id=agent.organization_id,
        owner_id=owner.id,
        agent_id=agent.id,
        title="T",
        meta={"k": [1, "two"]},
    )
    await session.refresh(created)

    assert created.meta == {"k": [1, "two"]}


async def test_get_is_scoped_to_the_organization(session: AsyncSession) -> None:
    owner = await add_user(session)
    elsewhere = await workspace_of(session, await add_user(session))
    conversation = await add_conversation(
        session, agent=await add_agent(session, owner_id=owner.id)
    )
    here = conversation.organization_id

    found = await conversation_crud.get(
        session, organization_id=here, conversation_id=conversation.id
    )
    foreign = await conversation_crud.get(
        session, organization_id=elsewhere, conversation_id=conversation.id
    )
    missing = await conversation_crud.get(
        session, organization_id=here, conversation_id=uuid.uuid4()
    )

    assert found is conversation
    assert foreign is None
    assert missing is None


async def test_get_page_orders_filters_and_counts(session: AsyncSession) -> None:
    owner = await add_user(session)
    first = await add_agent(session, owner_id=owner.id)
    second = await add_agent(session, owner_id=owner.id)
    await add_conversation(session, agent=first, title="Old plan", created_at=minutes_ago(3))
    await add_conversation(session, agent=first, title="New plan", created_at=minutes_ago(2))
    await add_conversation(session, agent=second, title="Other", created_at=minutes_ago(1))
    stranger = await add_user(session)
    await add_conversation(session, agent=await add_agent(session, owner_id=stranger.id))

    here = first.organization_id

    everything, total = await conversation_crud.get_page(
        session, organization_id=here, skip=0, limit=10
    )
    by_agent, by_agent_total = await conversation_crud.get_page(
        session, organization_id=here, skip=0, limit=1, agent_id=first.id
    )
    searched, searched_total = await conversation_crud.get_page(
        session, organization_id=here, skip=0, limit=10, q="PLAN"
    )

    assert [c.title for c in everything] == ["Other", "New plan", "Old plan"]
    assert total == 3
    assert ([c.title for c in by_agent], by_agent_total) == (["New plan"], 2)
    assert ([c.title for c in searched], searched_total) == (["New plan", "Old plan"], 2)


async def test_update_changes_title_and_metadata(session: AsyncSession) -> None:
    owner = await add_user(session)
    conversation = await add_conversation(
        session, agent=await add_agent(session, owner_id=owner.id), meta={"a": 1}
    )

    await conversation_crud.update(
        session, conversation=conversation, changes={"title": "Renamed", "meta": {"b": 2}}
    )

    assert (conversation.title, conversation.meta) == ("Renamed", {"b": 2})


async def test_delete_removes_messages_and_executions_but_not_the_agent(
    session: AsyncSession,
) -> None:
    owner = await add_user(session)
    agent = await add_agent(session, owner_id=owner.id)
    conversation = await add_conversation(session, agent=agent)
    await add_message(session, conversation=conversation)
    await add_execution(session, conversation=conversation)

    await conversation_crud.delete(session, conversation=conversation)

    assert await count_rows(session, Conversation) == 0
    assert await count_rows(session, Message) == 0
    assert await count_rows(session, Execution) == 0
    assert await count_rows(session, Agent) == 1
