"""Idempotency keys: stored with the execution they start, found within a window, one per key.

The concurrent cases hold one transaction open while a second one stores the same key,
on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.crud import execution as execution_crud
from app.crud import idempotency as idempotency_crud
from app.db.session import Database
from app.models import Conversation, Execution, IdempotencyKey
from tests.support.builders import (
    add_agent,
    add_conversation,
    add_user,
    count_rows,
    minutes_ago,
)
from tests.support.waiting import suspended_in, wait_for


async def _conversation(session: AsyncSession) -> Conversation:
    owner = await add_user(session)
    return await add_conversation(session, agent=await add_agent(session, owner_id=owner.id))


async def _execution(session: AsyncSession, conversation: Conversation) -> Execution:
    return await execution_crud.create(
        session,
        organization_id=conversation.organization_id,
        owner_id=conversation.owner_id,
        agent_id=conversation.agent_id,
        conversation_id=conversation.id,
        input="hello",
    )


async def _keyed_execution(
    session: AsyncSession, conversation: Conversation, key: str = "k"
) -> Execution:
    with idempotency_crud.holding(session, key=key, request_hash="digest"):
        return await _execution(session, conversation)


async def test_a_held_key_is_stored_with_the_first_execution_only(session: AsyncSession) -> None:
    conversation = await _conversation(session)

    with idempotency_crud.holding(session, key="order-1", request_hash="digest"):
        first = await _execution(session, conversation)
        await _execution(session, conversation)
    unkeyed = await _execution(session, conversation)

    stored = await idempotency_crud.find(
        session, owner_id=conversation.owner_id, key="order-1", since=minutes_ago(1)
    )
    assert stored is not None
    assert (stored.execution_id, stored.request_hash) == (first.id, "digest")
    assert await count_rows(session, IdempotencyKey) == 1
    assert unkeyed.id != first.id


async def test_find_counts_only_the_owners_keys_within_the_window(session: AsyncSession) -> None:
    conversation = await _conversation(session)
    stranger = await add_user(session)
    await _keyed_execution(session, conversation)
    owner = conversation.owner_id

    fresh = await idempotency_crud.find(session, owner_id=owner, key="k", since=minutes_ago(1))
    foreign = await idempotency_crud.find(
        session, owner_id=stranger.id, key="k", since=minutes_ago(1)
    )
    later = await idempotency_crud.find(session, owner_id=owner, key="k", since=minutes_ago(-1))

    assert fresh is not None
    assert (foreign, later) == (None, None)


async def test_forget_older_deletes_only_the_owners_older_keys(session: AsyncSession) -> None:
    mine = await _conversation(session)
    theirs = await _conversation(session)
    await _keyed_execution(session, mine, "old")
    await _keyed_execution(session, theirs, "old")

    await idempotency_crud.forget_older(session, owner_id=mine.owner_id, before=minutes_ago(-1))

    left = await idempotency_crud.find(
        session, owner_id=theirs.owner_id, key="old", since=minutes_ago(1)
    )
    assert left is not None
    assert await count_rows(session, IdempotencyKey) == 1


async def _committed_conversation(database: Database) -> Conversation:
    async with database.transaction() as session:
        return await _conversation(session)


async def _store_keyed(database: Database, conversation: Conversation) -> uuid.UUID:
    async with database.transaction() as session:
        return (await _keyed_execution(session, conversation)).id


async def _blocked(task: asyncio.Task[uuid.UUID]) -> None:
    """Until the task waits inside its flush: behind the first transaction, which holds the key."""
    await wait_for(lambda: suspended_in(task, "flush"), message="the second insert never ran")


async def test_a_key_held_by_an_open_transaction_is_refused_once_it_commits(
    database: Database,
) -> None:
    conversation = await _committed_conversation(database)

    async with database.transaction() as first:
        winner = await _keyed_execution(first, conversation)
        second = asyncio.create_task(_store_keyed(database, conversation))
        await _blocked(second)

    with pytest.raises(IntegrityError):
        await second
    async with database.transaction() as session:
        stored = await idempotency_crud.find(
            session, owner_id=conversation.owner_id, key="k", since=minutes_ago(1)
        )
        assert stored is not None
        assert stored.execution_id == winner.id
        assert await count_rows(session, Execution) == 1


async def test_a_key_whose_run_was_rolled_back_is_free_for_the_next_request(
    database: Database,
) -> None:
    conversation = await _committed_conversation(database)

    async with database.transaction() as first:
        await _keyed_execution(first, conversation)
        second = asyncio.create_task(_store_keyed(database, conversation))
        await _blocked(second)
        await first.rollback()

    taken_by = await second
    async with database.transaction() as session:
        stored = await idempotency_crud.find(
            session, owner_id=conversation.owner_id, key="k", since=minutes_ago(1)
        )
        assert stored is not None
        assert stored.execution_id == taken_by
