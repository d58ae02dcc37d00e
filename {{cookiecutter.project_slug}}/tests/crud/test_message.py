"""Message queries: exact ordering, concurrent appends and history windows."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession

from app.crud import message as message_crud
from app.db.session import Database
from app.models import Conversation, MessageRole
from tests.support.builders import add_agent, add_conversation, add_execution, add_user


async def _conversation(session: AsyncSession) -> Conversation:
    owner = await add_user(session)
    return await add_conversation(session, agent=await add_agent(session, owner_id=owner.id))


async def test_append_numbers_each_conversation_from_one(session: AsyncSession) -> None:
    first = await _conversation(session)
    second = await _conversation(session)

    sequences = [
        (await message_crud.append(session, conversation_id=c.id, role=MessageRole.USER)).sequence
        for c in (first, first, second, first, second)
    ]

    assert sequences == [1, 2, 1, 3, 2]


async def test_append_stores_every_field(session: AsyncSession) -> None:
    conversation = await _conversation(session)
    execution = await add_execution(session, conversation=conversation)
    call = {"id": "call_1", "name": "calculator", "arguments": {"expression": "1+1"}}

    message = await message_crud.append(
        session,
        conversation_id=conversation.id,
        role=MessageRole.ASSISTANT,
        content="thinking",
        tool_calls=[call],
        tool_call_id=None,
        name=None,
        input_tokens=10,
        output_tokens=3,
        execution_id=execution.id,
    )
    tool = await message_crud.append(
        session,
        conversation_id=conversation.id,
        role=MessageRole.TOOL,
        content="2",
        tool_call_id="call_1",
        name="calculator",
    )
    await session.refresh(message)

    assert message.role is MessageRole.ASSISTANT
    assert message.tool_calls == [call]
    assert (message.input_tokens, message.output_tokens) == (10, 3)
    assert message.execution_id == execution.id
    assert (tool.tool_call_id, tool.name, tool.tool_calls, tool.execution_id) == (
        "call_1",
        "calculator",
        [],
        None,
    )


async def test_concurrent_appends_get_distinct_consecutive_sequences(database: Database) -> None:
    async with database.transaction() as session:
        conversation_id = (await _conversation(session)).id

    async def append(n: int) -> int:
        async with database.transaction() as session:
            message = await message_crud.append(
                session, conversation_id=conversation_id, role=MessageRole.USER, content=str(n)
            )
            return message.sequence

    sequences = await asyncio.gather(*(append(n) for n in range(8)))

    assert sorted(sequences) == list(range(1, 9))


async def test_get_page_is_in_append_order(session: AsyncSession) -> None:
    conversation = await _conversation(session)
    for n in range(5):
        await message_crud.append(
            session, conversation_id=conversation.id, role=MessageRole.USER, content=f"m{n}"
        )

    page, total = await message_crud.get_page(
        session, conversation_id=conversation.id, skip=2, limit=2
    )

    assert total == 5
    assert [m.content for m in page] == ["m2", "m3"]


async def test_list_recent_returns_the_newest_oldest_first(session: AsyncSession) -> None:
    conversation = await _conversation(session)
    other = await _conversation(session)
    for n in range(5):
        await message_crud.append(
            session, conversation_id=conversation.id, role=MessageRole.USER, content=f"m{n}"
        )
    await message_crud.append(session, conversation_id=other.id, role=MessageRole.USER)

    recent = await message_crud.list_recent(session, conversation_id=conversation.id, limit=3)
    everything = await message_crud.list_recent(session, conversation_id=conversation.id, limit=50)

    assert [m.content for m in recent] == ["m2", "m3", "m4"]
    assert [m.sequence for m in everything] == [1, 2, 3, 4, 5]


async def test_revise_cleans_text_a_database_cannot_store(session: AsyncSession) -> None:
    conversation = await _conversation(session)
    message = await message_crud.append(
        session, conversation_id=conversation.id, role=MessageRole.ASSISTANT, content="draft"
    )
    call = {"id": "c\x00", "name": "calculator", "arguments": {"expression": "1+1\x00"}}

    await message_crud.revise(
        session, message_id=message.id, content="fin\x00al", tool_calls=[call], incomplete=False
    )
    await session.refresh(message)

    assert message.content == "final"
    assert message.tool_calls == [
        {"id": "c", "name": "calculator", "arguments": {"expression": "1+1"}}
    ]
    assert message.incomplete is False


async def test_append_rows_numbers_a_batch_after_what_is_stored(session: AsyncSession) -> None:
    conversation = await _conversation(session)
    await message_crud.append(session, conversation_id=conversation.id, role=MessageRole.USER)
    rows = [
        message_crud.new_row(role=MessageRole.TOOL, content=f"result {n}", tool_call_id=f"c{n}")
        for n in range(3)
    ]

    await message_crud.append_rows(session, conversation_id=conversation.id, rows=rows)

    stored = await message_crud.list_recent(session, conversation_id=conversation.id, limit=10)
    assert [(m.sequence, m.content) for m in stored] == [
        (1, ""),
        (2, "result 0"),
        (3, "result 1"),
        (4, "result 2"),
    ]


async def test_append_rows_splits_a_long_batch_and_keeps_its_order(
    session: AsyncSession,
) -> None:
    conversation = await _conversation(session)
    count = message_crud.ROWS_PER_INSERT + 5
    rows = [message_crud.new_row(role=MessageRole.USER, content=str(n)) for n in range(count)]

    await message_crud.append_rows(session, conversation_id=conversation.id, rows=rows)
    await message_crud.append_rows(session, conversation_id=conversation.id, rows=[])

    stored = await message_crud.list_recent(session, conversation_id=conversation.id, limit=500)
    assert [(m.sequence, m.content) for m in stored] == [(n + 1, str(n)) for n in range(count)]
