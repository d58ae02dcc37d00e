"""Running agents and cancelling their executions."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession
from sse_starlette import EventSourceResponse

from app.ai.runs import PreparedRun, RunManager
from app.api import idempotency
from app.api.access import Access, require
from app.api.deps import RunManagerDep, SessionDep, SettingsDep
from app.api.error_responses import BUDGETED, THROTTLED
from app.api.idempotency import REPLAYED_HEADER, IdempotencyKeyDep, KeyedRequest
from app.api.streaming import LastEventIdDep, follow_run, stream_run
from app.api.user_limits import RunRateLimit
from app.api.v1.resources import AgentDep, ExecutionDep
from app.core.errors import ConflictError, NotFoundError
from app.crud import conversation as conversation_crud
from app.crud import execution as execution_crud
from app.models import Execution
from app.schemas.execution import ExecutionRead
from app.schemas.run import ExecuteRequest

router = APIRouter(tags=["executions"])

_REPLAYED = {
    REPLAYED_HEADER: {
        "description": "`true` when an earlier request with the same Idempotency-Key "
        "started this run",
        "schema": {"type": "string"},
    }
}
EXECUTE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The finished execution, or with `stream: true` a stream of events",
        "content": {"text/event-stream": {}},
        "headers": _REPLAYED,
    },
    202: {
        "model": ExecutionRead,
        "description": "With `background: true`, the execution as it starts; the run goes on",
        "headers": {
            "Location": {
                "description": "The execution, to poll; its events are at `.../events`",
                "schema": {"type": "string"},
            },
            **_REPLAYED,
        },
    },
}


@router.post(
    "/agents/{agent_id}/execute",
    response_model=ExecutionRead,
    responses={**EXECUTE_RESPONSES, **THROTTLED, **BUDGETED},
)
async def execute_agent(
    access: Annotated[Access, require("executions:run")],
    _limit: RunRateLimit,
    agent: AgentDep,
    payload: ExecuteRequest,
    request: Request,
    response: Response,
    session: SessionDep,
    runs: RunManagerDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKeyDep,
    after: LastEventIdDep,
) -> Execution | EventSourceResponse:
    """Run the agent on a message: one JSON result, Server-Sent Events, or 202 at once.

    With `background: true` the answer is 202 with the execution as it starts and its
    `Location`; follow it with `GET /executions/{id}/events` or poll it. With an
    `Idempotency-Key`, a repeat of the request answers with the run the key started:
    the execution once it has finished (waiting as the first request does), its events
    for a stream (after `Last-Event-ID` when the client sends one, so a dropped stream
    resumes where it broke), or 202 with its current state in the background.
    """
    if payload.conversation_id is not None:
        conversation = await conversation_crud.get(
            session,
            conversation_id=payload.conversation_id,
            organization_id=access.organization_id,
        )
        if conversation is None or conversation.agent_id != agent.id:
            raise NotFoundError("Conversation not found")
    accepts_stream = "text/event-stream" in request.headers.get("accept", "")
    answer = _Answer(
        stream=not payload.background and (payload.stream or accepts_stream),
        background=payload.background,
        organization_id=access.organization_id,
        runs=runs,
        ping_seconds=settings.sse_ping_seconds,
        after=after,
    )
    keyed = KeyedRequest.of(idempotency_key, endpoint=f"execute:{agent.id}", payload=payload)
    # Stored in this request's transaction and committed there, which frees its connection:
    # the run writes through its own short sessions, and holding this one while they wait
    # for theirs would let a burst of runs exhaust the pool against itself.
    started = await idempotency.start_or_replay(
        runs,
        session,
        keyed,
        settings=settings,
        user_id=access.user_id,
        agent=agent,
        message=payload.message,
        conversation_id=payload.conversation_id,
    )
    if isinstance(started, PreparedRun):
        return await answer.new(started, session, request, response)
    return await answer.repeat(started, session, request, response)


class _Answer:
    """How one execute request is answered: waited for, streamed, or accepted at once."""

    def __init__(
        self,
        *,
        stream: bool,
        background: bool,
        organization_id: uuid.UUID,
        runs: RunManager,
        ping_seconds: float,
        after: str,
    ) -> None:
        self.stream = stream
        self.background = background
        self.organization_id = organization_id
        self.runs = runs
        self.ping_seconds = ping_seconds
        self.after = after

    async def new(
        self, prepared: PreparedRun, session: AsyncSession, request: Request, response: Response
    ) -> Execution | EventSourceResponse:
        """Launch the run just stored and answer as the request asked."""
        if self.stream:
            return stream_run(self.runs, prepared, ping_seconds=self.ping_seconds)
        if self.background:
            self.runs.launch(prepared)
            return await self._accepted(prepared.execution_id, session, request, response)
        return await asyncio.shield(self.runs.launch(prepared))

    async def repeat(
        self, execution_id: uuid.UUID, session: AsyncSession, request: Request, response: Response
    ) -> Execution | EventSourceResponse:
        """Answer with the run an earlier request with the same key started."""
        if self.stream:
            followed = follow_run(
                self.runs,
                execution_id,
                organization_id=self.organization_id,
                ping_seconds=self.ping_seconds,
                after=self.after,
            )
            followed.headers[REPLAYED_HEADER] = "true"
            return followed
        response.headers[REPLAYED_HEADER] = "true"
        if self.background:
            return await self._accepted(execution_id, session, request, response)
        # Only read so far: end the transaction, so no connection is held while waiting.
        await session.rollback()
        await idempotency.outcome_of(self.runs, execution_id, organization_id=self.organization_id)
        return await self._read(execution_id, session)

    async def _accepted(
        self, execution_id: uuid.UUID, session: AsyncSession, request: Request, response: Response
    ) -> Execution:
        """202 with the execution as it stands and where to poll it."""
        execution = await self._read(execution_id, session)
        response.status_code = status.HTTP_202_ACCEPTED
        location = request.app.url_path_for("read_execution", execution_id=str(execution_id))
        response.headers["Location"] = str(location)
        return execution

    async def _read(self, execution_id: uuid.UUID, session: AsyncSession) -> Execution:
        execution = await execution_crud.get(
            session, organization_id=self.organization_id, execution_id=execution_id
        )
        if execution is None:
            raise NotFoundError("Execution not found")
        return execution


@router.post(
    "/executions/{execution_id}/cancel",
    response_model=ExecutionRead,
    status_code=status.HTTP_202_ACCEPTED,
)
async def cancel_execution(
    access: Annotated[Access, require("executions:run")],
    execution: ExecutionDep,
    runs: RunManagerDep,
) -> Execution:
    """Stop a pending or running execution, whichever process runs it."""
    if execution.status.is_final:
        raise ConflictError(f"Execution already {execution.status.value}")
    return await runs.cancel(execution.id, organization_id=access.organization_id)


@router.get(
    "/executions/{execution_id}/events",
    responses={200: {"description": "Server-Sent Events", "content": {"text/event-stream": {}}}},
)
async def follow_execution(
    access: Annotated[Access, require("executions:read")],
    execution: ExecutionDep,
    runs: RunManagerDep,
    settings: SettingsDep,
    after: LastEventIdDep,
) -> EventSourceResponse:
    """Follow a run from anywhere: its events so far, then live, then its outcome.

    Each event has an `id`; reconnecting with `Last-Event-ID` resumes after that event.
    Events are kept `RUN_EVENTS_RETENTION_SECONDS` after the last one; a run whose
    events are gone answers with its outcome alone.
    """
    return follow_run(
        runs,
        execution.id,
        organization_id=access.organization_id,
        ping_seconds=settings.sse_ping_seconds,
        after=after,
    )
