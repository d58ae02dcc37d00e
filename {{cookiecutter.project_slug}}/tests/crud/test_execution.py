"""Execution queries: organisation scoping, filters, the engine's updates and the start-up sweep."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.crud import execution as execution_crud
from app.db.types import utc_now
from app.models import Conversation, ExecutionStatus
from tests.support.builders import (
    add_agent,
    add_conversation,
    add_execution,
    add_user,
    minutes_ago,
    workspace_of,
)


async def _conversation(session: AsyncSession) -> Conversation:
    owner = await add_user(session)
    return await add_conversation(session, agent=await add_agent(session, owner_id=owner.id))


async def test_create_is_pending_and_owned(session: AsyncSession) -> None:
    conversation = await _conversation(session)

    execution = await execution_crud.create(
        session,
        organization_id=conversation.organization_id,
        owner_id=conversation.owner_id,
        agent_id=conversation.agent_id,
        conversation_id=conversation.id,
        input="hello",
    )
    await session.refresh(execution)

    assert execution.status is ExecutionStatus.PENDING
    assert (execution.input, execution.output) == ("hello", None)
    assert (execution.input_tokens, execution.output_tokens, execution.cost) == (0, 0, Decimal(0))
    assert execution.owner_id == conversation.owner_id
    assert execution.organization_id == conversation.organization_id


async def test_get_is_scoped_to_the_organization(session: AsyncSession) -> None:
    conversation = await _conversation(session)
    elsewhere = await workspace_of(session, await add_user(session))
    execution = await add_execution(session, conversation=conversation)
    here = conversation.organization_id

    found = await execution_crud.get(session, organization_id=here, execution_id=execution.id)
    foreign = await execution_crud.get(
        session, organization_id=elsewhere, execution_id=execution.id
    )
    missing = await execution_crud.get(session, organization_id=here, execution_id=uuid.uuid4())

    assert (found, foreign, missing) == (execution, None, None)


async def test_get_page_orders_and_filters(session: AsyncSession) -> None:
    conversation = await _conversation(session)
    other_agent = await add_agent(session, owner_id=conversation.owner_id)
    elsewhere = await add_conversation(session, agent=other_agent)
    await add_execution(
        session,
        conversation=conversation,
        input="old",
        status=ExecutionStatus.COMPLETED,
        created_at=minutes_ago(3),
    )
    await add_execution(
        session,
        conversation=conversation,
        input="new",
        status=ExecutionStatus.FAILED,
        created_at=minutes_ago(2),
    )
    await add_execution(
        session,
        conversation=elsewhere,
        input="other",
        status=ExecutionStatus.COMPLETED,
        created_at=minutes_ago(1),
    )
    await add_execution(session, conversation=await _conversation(session), input="foreign")
    organization_id = conversation.organization_id

    async def inputs(**filters: Any) -> tuple[list[str], int]:
        page, total = await execution_crud.get_page(
            session, organization_id=organization_id, skip=0, limit=10, **filters
        )
        return [e.input for e in page], total

    assert await inputs() == (["other", "new", "old"], 3)
    assert await inputs(agent_id=conversation.agent_id) == (["new", "old"], 2)
    assert await inputs(status=ExecutionStatus.COMPLETED) == (["other", "old"], 2)
    assert await inputs(agent_id=other_agent.id, status=ExecutionStatus.FAILED) == ([], 0)


async def test_update_records_the_outcome(session: AsyncSession) -> None:
    execution = await add_execution(session, conversation=await _conversation(session))
    started = utc_now()

    await execution_crud.update(
        session,
        execution=execution,
        changes={"status": ExecutionStatus.RUNNING, "started_at": started},
    )
    await execution_crud.update(
        session,
        execution=execution,
        changes={
            "status": ExecutionStatus.COMPLETED,
            "output": "done",
            "input_tokens": 40,
            "output_tokens": 7,
            "cost": Decimal("0.000123"),
            "finished_at": started + timedelta(seconds=1),
            "duration_ms": 1000.0,
        },
    )

    assert execution.status is ExecutionStatus.COMPLETED
    assert execution.output == "done"
    assert (execution.input_tokens, execution.output_tokens) == (40, 7)
    assert execution.cost == Decimal("0.000123")
    assert execution.started_at == started
    assert execution.duration_ms == 1000.0


async def test_change_returns_the_row_as_updated_in_one_statement(session: AsyncSession) -> None:
    execution = await add_execution(session, conversation=await _conversation(session))

    changed = await execution_crud.change(
        session,
        execution_id=execution.id,
        organization_id=execution.organization_id,
        changes={"status": ExecutionStatus.FAILED, "error_message": "broke\x00 down"},
    )

    assert changed is not None
    assert (changed.status, changed.error_message) == (ExecutionStatus.FAILED, "broke down")
    assert changed.updated_at >= execution.created_at


async def test_change_leaves_other_organizations_and_ended_runs_alone(
    session: AsyncSession,
) -> None:
    conversation = await _conversation(session)
    running = await add_execution(
        session, conversation=conversation, status=ExecutionStatus.RUNNING
    )
    ended = await add_execution(
        session, conversation=conversation, status=ExecutionStatus.COMPLETED
    )
    cancel = {"status": ExecutionStatus.CANCELLED}

    foreign = await execution_crud.change(
        session, execution_id=running.id, organization_id=uuid.uuid4(), changes=cancel
    )
    finished = await execution_crud.change(
        session, execution_id=ended.id, changes=cancel, unfinished_only=True
    )
    missing = await execution_crud.change(session, execution_id=uuid.uuid4(), changes=cancel)

    assert (foreign, finished, missing) == (None, None, None)
    await session.refresh(running)
    await session.refresh(ended)
    assert (running.status, ended.status) == (ExecutionStatus.RUNNING, ExecutionStatus.COMPLETED)


async def test_list_unfinished_spans_owners_and_skips_final_states(
    session: AsyncSession,
) -> None:
    mine = await _conversation(session)
    theirs = await _conversation(session)
    pending = await add_execution(session, conversation=mine, status=ExecutionStatus.PENDING)
    running = await add_execution(session, conversation=theirs, status=ExecutionStatus.RUNNING)
    for status in (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED):
        await add_execution(session, conversation=mine, status=status)

    unfinished = await execution_crud.list_unfinished(session)

    assert {e.id for e in unfinished} == {pending.id, running.id}
