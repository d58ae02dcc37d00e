"""Running agents and cancelling their executions."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, status
from sse_starlette import EventSourceResponse

from app.api.deps import CurrentUser, RunManagerDep, SessionDep, SettingsDep
from app.api.error_responses import THROTTLED
from app.api.streaming import follow_run, stream_run
from app.api.user_limits import RunLimit
from app.api.v1.resources import AgentDep, ExecutionDep
from app.core.errors import ConflictError, NotFoundError
from app.crud import conversation as conversation_crud
from app.models import Execution
from app.schemas.execution import ExecutionRead
from app.schemas.run import ExecuteRequest

router = APIRouter(tags=["executions"])

SSE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The finished execution, or with `stream: true` a stream of events",
        "content": {"text/event-stream": {}},
    }
}


@router.post(
    "/agents/{agent_id}/execute",
    response_model=ExecutionRead,
    responses={**SSE_RESPONSE, **THROTTLED},
)
async def execute_agent(
    _limit: RunLimit,
    agent: AgentDep,
    payload: ExecuteRequest,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    runs: RunManagerDep,
    settings: SettingsDep,
) -> Execution | EventSourceResponse:
    """Run the agent on a message: one JSON result, or Server-Sent Events as it happens."""
    if payload.conversation_id is not None:
        conversation = await conversation_crud.get(
            session, conversation_id=payload.conversation_id, owner_id=user.id
        )
        if conversation is None or conversation.agent_id != agent.id:
            raise NotFoundError("Conversation not found")
    # Stored in this request's transaction and committed there, which frees its connection:
    # the run writes through its own short sessions, and holding this one while they wait
    # for theirs would let a burst of runs exhaust the pool against itself.
    prepared = await runs.prepare(
        user_id=user.id,
        agent=agent,
        message=payload.message,
        conversation_id=payload.conversation_id,
        session=session,
    )
    if payload.stream or "text/event-stream" in request.headers.get("accept", ""):
        return stream_run(runs, prepared, ping_seconds=settings.sse_ping_seconds)
    return await asyncio.shield(runs.launch(prepared))


@router.post(
    "/executions/{execution_id}/cancel",
    response_model=ExecutionRead,
    status_code=status.HTTP_202_ACCEPTED,
)
async def cancel_execution(
    execution: ExecutionDep, user: CurrentUser, runs: RunManagerDep
) -> Execution:
    """Stop a pending or running execution, whichever process runs it."""
    if execution.status.is_final:
        raise ConflictError(f"Execution already {execution.status.value}")
    return await runs.cancel(execution.id, owner_id=user.id)


@router.get(
    "/executions/{execution_id}/events",
    responses={200: {"description": "Server-Sent Events", "content": {"text/event-stream": {}}}},
)
async def follow_execution(
    execution: ExecutionDep, user: CurrentUser, runs: RunManagerDep, settings: SettingsDep
) -> EventSourceResponse:
    """Follow a run from anywhere: its events from now on, or its outcome if it has ended."""
    return follow_run(runs, execution.id, owner_id=user.id, ping_seconds=settings.sse_ping_seconds)
