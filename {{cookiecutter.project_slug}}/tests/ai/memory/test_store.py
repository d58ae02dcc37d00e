"""Memories: near-copies replace each other, recall ranks by relevance then recency."""

from __future__ import annotations

import uuid
from datetime import timedelta

from app.ai.knowledge.embedders.hashing import HashingEmbedder
from app.ai.memory import store
from app.ai.memory.store import MemoryOwner, MemoryPolicy, recency_weight
from app.crud import organization as organization_crud
from app.db.session import Database
from app.db.types import utc_now
from app.models import Memory
from tests.support.builders import add_agent, add_user, count_rows

EMBEDDER = HashingEmbedder()
POLICY = MemoryPolicy()


async def _owner_and_agent(database: Database) -> tuple[MemoryOwner, uuid.UUID]:
    """A user in their personal workspace, and an agent of theirs."""
    async with database.transaction() as session:
        user = await add_user(session)
        agent = await add_agent(session, owner_id=user.id)
        workspace = await organization_crud.get_personal_id(session, user_id=user.id)
        assert workspace is not None
        return MemoryOwner(organization_id=workspace, user_id=user.id), agent.id


async def _remember(
    database: Database,
    owner: MemoryOwner,
    agent_id: uuid.UUID | None,
    text: str,
    policy: MemoryPolicy = POLICY,
) -> tuple[Memory, bool]:
    async with database.transaction() as session:
        return await store.remember(
            session, EMBEDDER, owner=owner, agent_id=agent_id, text=text, policy=policy
        )


async def _recall(
    database: Database, owner: MemoryOwner, agent_id: uuid.UUID | None, query: str
) -> list[str]:
    async with database.transaction() as session:
        found = await store.recall(
            session,
            EMBEDDER,
            owner=owner,
            agent_id=agent_id,
            query=query,
            limit=3,
            policy=POLICY,
        )
        return [item.memory.text for item in found]


async def test_a_near_copy_updates_the_kept_memory_instead_of_adding_one(
    database: Database,
) -> None:
    owner, agent_id = await _owner_and_agent(database)
    first, created = await _remember(database, owner, agent_id, "The user prefers metric units.")

    again, created_again = await _remember(
        database, owner, agent_id, "The user prefers metric units!"
    )

    assert created
    assert not created_again
    assert again.id == first.id
    assert again.text == "The user prefers metric units!"
    async with database.transaction() as session:
        assert await count_rows(session, Memory) == 1


async def test_different_facts_are_kept_apart_and_recalled_by_relevance(
    database: Database,
) -> None:
    owner, agent_id = await _owner_and_agent(database)
    await _remember(database, owner, agent_id, "The user's dog is called Biscuit.")
    await _remember(database, owner, agent_id, "The user works night shifts at a hospital.")

    recalled = await _recall(database, owner, agent_id, "what is the name of my dog?")

    assert recalled[0] == "The user's dog is called Biscuit."


async def test_among_equally_relevant_memories_the_recent_one_comes_first(
    database: Database,
) -> None:
    owner, agent_id = await _owner_and_agent(database)
    old, _ = await _remember(database, owner, agent_id, "Favourite colour: green.")
    await _remember(database, owner, agent_id, "Favourite colour: blue.")
    async with database.transaction() as session:
        kept = await session.get(Memory, old.id)
        assert kept is not None
        kept.updated_at = utc_now() - timedelta(days=90)

    recalled = await _recall(database, owner, agent_id, "favourite colour")

    assert recalled[:2] == ["Favourite colour: blue.", "Favourite colour: green."]


def test_recency_halves_its_distance_to_the_floor_every_half_life() -> None:
    now = utc_now()

    assert recency_weight(now, now, 30) == 1.0
    halfway = store.RECENCY_FLOOR + (1 - store.RECENCY_FLOOR) / 2
    assert recency_weight(now - timedelta(days=30), now, 30) == halfway
    assert recency_weight(now - timedelta(days=3000), now, 30) >= store.RECENCY_FLOOR


async def test_memories_stay_with_their_user_and_agent(database: Database) -> None:
    owner, agent_id = await _owner_and_agent(database)
    other_owner, other_agent = await _owner_and_agent(database)
    async with database.transaction() as session:
        second_agent = (await add_agent(session, owner_id=owner.user_id)).id
    await _remember(database, owner, agent_id, "The user's dog is called Biscuit.")

    assert await _recall(database, owner, second_agent, "dog") == []
    assert await _recall(database, other_owner, other_agent, "dog") == []
    assert await _recall(database, other_owner, agent_id, "dog") == []


async def test_beyond_the_cap_the_least_recently_kept_memory_goes(database: Database) -> None:
    owner, agent_id = await _owner_and_agent(database)
    capped = MemoryPolicy(max_per_agent=2)
    oldest, _ = await _remember(database, owner, agent_id, "Lives in Lisbon.", capped)
    async with database.transaction() as session:
        kept = await session.get(Memory, oldest.id)
        assert kept is not None
        kept.updated_at = utc_now() - timedelta(days=1)
    await _remember(database, owner, agent_id, "Speaks Portuguese and French.", capped)
    await _remember(database, owner, agent_id, "Allergic to peanuts.", capped)

    async with database.transaction() as session:
        texts, total = await store.list_memories(
            session, owner=owner, agent_id=agent_id, skip=0, limit=10
        )

    assert total == 2
    assert "Lives in Lisbon." not in [memory.text for memory in texts]


async def test_memories_stay_with_their_person_in_their_organisation(database: Database) -> None:
    owner, agent_id = await _owner_and_agent(database)
    async with database.transaction() as session:
        teammate = await add_user(session)
        team = await organization_crud.create(session, name="Acme", owner_id=owner.user_id)
    in_team = MemoryOwner(organization_id=team.id, user_id=owner.user_id)
    await _remember(database, in_team, agent_id, "The user's dog is called Biscuit.")

    assert await _recall(database, in_team, agent_id, "dog") == [
        "The user's dog is called Biscuit."
    ]
    teammate_in_team = MemoryOwner(organization_id=team.id, user_id=teammate.id)
    assert await _recall(database, teammate_in_team, agent_id, "dog") == []
    assert await _recall(database, owner, agent_id, "dog") == []
