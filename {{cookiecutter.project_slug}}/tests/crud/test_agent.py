"""Agent queries: organisation scoping, paging, filters, versioning and cascading deletes."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.crud import agent as agent_crud
from app.db.session import Database
from app.models import Agent, Conversation, Execution, Message
from app.schemas.agent import AgentCreate
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


async def test_create_starts_at_version_one(session: AsyncSession) -> None:
    owner = await add_user(session)
    data = AgentCreate(name="Helper", provider="scripted", model="echo", tools=["calculator"])

    workspace = await workspace_of(session, owner)

    agent = await agent_crud.create(
        session, organization_id=workspace, owner_id=owner.id, data=data
    )

    assert (agent.organization_id, agent.owner_id) == (workspace, owner.id)
    assert agent.version == 1
    assert agent.tools == ["calculator"]
    assert agent.temperature == 0.7
    assert agent.created_at.tzinfo is not None


async def test_get_is_scoped_to_the_organization(session: AsyncSession) -> None:
    owner = await add_user(session)
    here = await workspace_of(session, owner)
    elsewhere = await workspace_of(session, await add_user(session))
    agent = await add_agent(session, owner_id=owner.id)

    assert await agent_crud.get(session, organization_id=here, agent_id=agent.id) is agent
    assert await agent_crud.get(session, organization_id=elsewhere, agent_id=agent.id) is None
    assert await agent_crud.get(session, organization_id=here, agent_id=uuid.uuid4()) is None


async def test_get_by_id_or_name_prefers_the_id_then_the_name(session: AsyncSession) -> None:
    owner = await add_user(session)
    stranger = await add_user(session)
    helper = await add_agent(session, owner_id=owner.id, name="Helper")
    named_like_an_id = await add_agent(session, owner_id=owner.id, name=str(uuid.uuid4()))
    await add_agent(session, owner_id=stranger.id, name="Theirs")

    async def find(key: str) -> Agent | None:
        return await agent_crud.get_by_id_or_name(
            session, organization_id=helper.organization_id, key=key
        )

    assert await find(str(helper.id)) is helper
    assert await find("Helper") is helper
    assert await find(named_like_an_id.name) is named_like_an_id
    assert await find("helper") is None
    assert await find("Theirs") is None
    assert await find(str(uuid.uuid4())) is None


async def test_list_active_is_by_name_and_skips_disabled_agents(session: AsyncSession) -> None:
    owner = await add_user(session)
    for name in ("zeta", "alpha"):
        await add_agent(session, owner_id=owner.id, name=name)
    await add_agent(session, owner_id=owner.id, name="off", is_active=False)
    await add_agent(session, owner_id=(await add_user(session)).id, name="beta")

    listed = await agent_crud.list_active(
        session, organization_id=await workspace_of(session, owner)
    )

    assert [agent.name for agent in listed] == ["alpha", "zeta"]


async def test_get_page_orders_newest_first_and_counts_all(session: AsyncSession) -> None:
    owner = await add_user(session)
    stranger = await add_user(session)
    for age in range(4):
        await add_agent(session, owner_id=owner.id, name=f"age-{age}", created_at=minutes_ago(age))
    await add_agent(session, owner_id=stranger.id)

    page, total = await agent_crud.get_page(
        session, organization_id=await workspace_of(session, owner), skip=1, limit=2
    )

    assert total == 4
    assert [a.name for a in page] == ["age-1", "age-2"]


async def test_get_page_filters_combine(session: AsyncSession) -> None:
    owner = await add_user(session)
    await add_agent(session, owner_id=owner.id, name="Alpha", provider="openai")
    await add_agent(session, owner_id=owner.id, name="Beta", provider="openai", is_active=False)
    await add_agent(
        session, owner_id=owner.id, name="Gamma", description="like alpha", provider="scripted"
    )

    workspace = await workspace_of(session, owner)

    async def names(**filters: Any) -> list[str]:
        page, total = await agent_crud.get_page(
            session, organization_id=workspace, skip=0, limit=10, **filters
        )
        assert total == len(page)
        return sorted(a.name for a in page)

    assert await names(q="ALPHA") == ["Alpha", "Gamma"]
    assert await names(q="alpha", provider="openai") == ["Alpha"]
    assert await names(is_active=False) == ["Beta"]
    assert await names(provider="openai", is_active=True) == ["Alpha"]
    assert await names(q="%") == []
    assert await names(q="") == ["Alpha", "Beta", "Gamma"]


async def test_update_bumps_the_version_only_for_behaviour(session: AsyncSession) -> None:
    owner = await add_user(session)
    agent = await add_agent(session, owner_id=owner.id, model="one", name="A")

    await agent_crud.update(session, agent=agent, changes={"name": "B", "is_active": False})
    assert agent.version == 1
    await agent_crud.update(session, agent=agent, changes={"model": "two"})
    assert agent.version == 2
    await agent_crud.update(session, agent=agent, changes={"tools": ["calculator"]})
    assert (agent.version, agent.tools, agent.name) == (3, ["calculator"], "B")


async def test_update_with_nothing_different_writes_nothing(session: AsyncSession) -> None:
    owner = await add_user(session)
    agent = await add_agent(session, owner_id=owner.id, model="same")
    before = agent.updated_at

    result = await agent_crud.update(session, agent=agent, changes={"model": "same"})

    assert result is agent
    assert (agent.version, agent.updated_at) == (1, before)


async def test_concurrent_updates_both_bump_the_version(database: Database) -> None:
    async with database.transaction() as session:
        owner = await add_user(session)
        added = await add_agent(session, owner_id=owner.id)
        agent_id, workspace = added.id, added.organization_id

    async with database.transaction() as first:
        stale = await agent_crud.get(first, organization_id=workspace, agent_id=agent_id)
        assert stale is not None
        async with database.transaction() as second:
            fresh = await agent_crud.get(second, organization_id=workspace, agent_id=agent_id)
            assert fresh is not None
            await agent_crud.update(second, agent=fresh, changes={"model": "from-second"})
        await agent_crud.update(first, agent=stale, changes={"model": "from-first"})

    assert stale.version == 3


async def test_delete_cascades_to_everything_under_the_agent(session: AsyncSession) -> None:
    owner = await add_user(session)
    agent = await add_agent(session, owner_id=owner.id)
    conversation = await add_conversation(session, agent=agent)
    execution = await add_execution(session, conversation=conversation)
    await add_message(session, conversation=conversation, execution_id=execution.id)
    survivor = await add_agent(session, owner_id=owner.id)
    await add_conversation(session, agent=survivor)

    await agent_crud.delete(session, agent=agent)

    assert await count_rows(session, Agent) == 1
    assert await count_rows(session, Conversation) == 1
    assert await count_rows(session, Message) == 0
    assert await count_rows(session, Execution) == 0
