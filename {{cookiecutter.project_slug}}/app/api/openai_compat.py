"""`POST /v1/chat/completions`: any OpenAI client can talk to an agent.

`model` names an agent of the active organisation (by id or name; the `X-Organization-Id`
header, else the caller's personal workspace) and the bearer token is the caller's. The agent's own prompt, model, sampling and tools apply; tool
calls run server-side, so clients only ever see the final text.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession
from sse_starlette import EventSourceResponse, ServerSentEvent

from app.ai.budgets import ERROR_TYPE as BUDGET_EXCEEDED
from app.ai.providers.base import ChatMessage, Role
from app.ai.runs import PreparedRun, RunManager, events
from app.ai.runs.events import RunEvent
from app.api import idempotency
from app.api.access import Access, require
from app.api.deps import RunManagerDep, SessionDep, SettingsDep
from app.api.error_responses import BUDGETED, THROTTLED
from app.api.idempotency import REPLAYED_HEADER, IdempotencyKeyDep, KeyedRequest
from app.api.streaming import EventEncoder, stream_run
from app.api.user_limits import RunRateLimit
from app.core.config import Settings
from app.core.errors import NotFoundError, UnprocessableError
from app.core.openai_errors import OPENAI_PATH_PREFIX, openai_error
from app.crud import agent as agent_crud
from app.crud import execution as execution_crud
from app.models import Execution, ExecutionStatus
from app.schemas.openai_compat import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionMessage,
    ChatCompletionRequest,
    Choice,
    CompletionUsage,
    completion_chunk,
)

router = APIRouter(prefix=OPENAI_PATH_PREFIX, tags=["openai-compatible"])

HISTORY_ROLES = {"user": Role.USER, "assistant": Role.ASSISTANT}
# Seconds a client is asked to wait after a provider's rate limit or our own outage.
RATE_LIMIT_RETRY_AFTER = 5


@router.post(
    "/chat/completions", response_model=ChatCompletion, responses={**THROTTLED, **BUDGETED}
)
async def create_chat_completion(
    access: Annotated[Access, require("executions:run")],
    _limit: RunRateLimit,
    payload: ChatCompletionRequest,
    response: Response,
    session: SessionDep,
    runs: RunManagerDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKeyDep,
) -> ChatCompletion | EventSourceResponse | JSONResponse:
    """Run an agent on an OpenAI-style conversation; plain or streamed like OpenAI does.

    With an `Idempotency-Key`, a repeat of the request answers with the run the key
    started: the completion once it has finished, or, streamed, the whole answer at once.
    """
    agent = await agent_crud.get_by_id_or_name(
        session, organization_id=access.organization_id, key=payload.model
    )
    if agent is None:
        raise NotFoundError(f"No agent with id or name '{payload.model}'")
    *history, last = payload.messages
    if last.role != "user" or not last.text.strip():
        raise UnprocessableError("The last message must be a non-empty user message")
    # The same key and body in another organisation names another agent: a different request.
    endpoint = f"chat.completions:{access.organization_id}"
    keyed = KeyedRequest.of(idempotency_key, endpoint=endpoint, payload=payload)
    # Committed with the stored run, freeing this connection; the run uses its own sessions.
    started = await idempotency.start_or_replay(
        runs,
        session,
        keyed,
        settings=settings,
        user_id=access.user_id,
        agent=agent,
        message=last.text,
        prior_messages=_history(history),
    )
    if isinstance(started, PreparedRun):
        return await _new_completion(started, payload, runs, settings)
    response.headers[REPLAYED_HEADER] = "true"
    return await _repeated_completion(
        started, payload, access.organization_id, session, runs, settings
    )


async def _new_completion(
    prepared: PreparedRun,
    payload: ChatCompletionRequest,
    runs: RunManager,
    settings: Settings,
) -> ChatCompletion | EventSourceResponse | JSONResponse:
    """Launch the run just stored; its answer whole, or streamed as OpenAI chunks."""
    created = int(time.time())
    completion_id = f"chatcmpl-{prepared.execution_id.hex}"
    if payload.stream:
        return stream_run(
            runs,
            prepared,
            ping_seconds=settings.sse_ping_seconds,
            encode=_chunk_encoder(completion_id, created, payload.model),
            closing=ServerSentEvent(data="[DONE]"),
        )
    execution = await asyncio.shield(runs.launch(prepared))
    return _completion(execution, completion_id, created, payload.model)


async def _repeated_completion(
    execution_id: uuid.UUID,
    payload: ChatCompletionRequest,
    organization_id: uuid.UUID,
    session: AsyncSession,
    runs: RunManager,
    settings: Settings,
) -> ChatCompletion | EventSourceResponse | JSONResponse:
    """The completion of the run an earlier request with the same key started."""
    execution = await execution_crud.get(
        session, organization_id=organization_id, execution_id=execution_id
    )
    if execution is None:
        raise NotFoundError("The run this Idempotency-Key started no longer exists")
    completion_id = f"chatcmpl-{execution_id.hex}"
    created = int(execution.created_at.timestamp())
    if payload.stream:
        chunks = _replayed_chunks(
            runs, execution_id, organization_id, completion_id, created, payload.model
        )
        replay = EventSourceResponse(chunks, ping=settings.sse_ping_seconds)
        replay.headers[REPLAYED_HEADER] = "true"
        return replay
    # Only read so far: end the transaction, so no connection is held while waiting.
    await session.rollback()
    await idempotency.outcome_of(runs, execution_id, organization_id=organization_id)
    execution = await execution_crud.get(
        session, organization_id=organization_id, execution_id=execution_id
    )
    if execution is None:
        raise NotFoundError("The run this Idempotency-Key started no longer exists")
    answer = _completion(execution, completion_id, created, payload.model)
    if isinstance(answer, JSONResponse):
        answer.headers[REPLAYED_HEADER] = "true"
    return answer


async def _replayed_chunks(
    runs: RunManager,
    execution_id: uuid.UUID,
    organization_id: uuid.UUID,
    completion_id: str,
    created: int,
    model: str,
) -> AsyncIterator[ServerSentEvent]:
    """A repeated stream: the role at once, then the whole answer (or error) when the run ends.

    The first request may have streamed part of the text already, and deltas joined from
    the middle would read as the whole answer; so the text comes complete, in one chunk.
    """
    yield _chunk(completion_id, created, model, {"role": "assistant", "content": ""}, None)
    outcome = await idempotency.outcome_of(runs, execution_id, organization_id=organization_id)
    if outcome is None:
        error = {"message": "The run this Idempotency-Key started no longer exists"}
        yield ServerSentEvent(data=json.dumps({"error": error | {"type": "not_found_error"}}))
    else:
        if outcome.name == events.EXECUTION_COMPLETED:
            text = {"content": outcome.data["output"] or ""}
            yield _chunk(completion_id, created, model, text, None)
        if (encoded := _chunk_encoder(completion_id, created, model)(outcome)) is not None:
            yield encoded
    yield ServerSentEvent(data="[DONE]")


def _completion(
    execution: Execution, completion_id: str, created: int, model: str
) -> ChatCompletion | JSONResponse:
    """The finished run as OpenAI's answer, or an error body that names why it failed."""
    if execution.status is not ExecutionStatus.COMPLETED:
        return _failure_response(execution)
    return ChatCompletion(
        id=completion_id,
        created=created,
        model=model,
        choices=[Choice(message=AssistantMessage(content=execution.output))],
        usage=CompletionUsage(
            prompt_tokens=execution.input_tokens,
            completion_tokens=execution.output_tokens,
            total_tokens=execution.input_tokens + execution.output_tokens,
        ),
    )


def _failure_status(error_type: str | None) -> tuple[int, dict[str, str]]:
    """The HTTP status (and headers) that say why a run failed, as an OpenAI client expects.

    429 for the provider's rate limit, 402 for a budget spent mid-run, 504 for a deadline,
    502 for a bad upstream reply, 503 when our own dependencies were away, 409 for a
    cancelled run, 400 for a run a guardrail blocked (as OpenAI refuses content its policy
    blocks), 500 for a fault.
    """
    if error_type == "provider.rate_limited":
        return status.HTTP_429_TOO_MANY_REQUESTS, {"Retry-After": str(RATE_LIMIT_RETRY_AFTER)}
    if error_type == BUDGET_EXCEEDED:
        return status.HTTP_402_PAYMENT_REQUIRED, {}
    if error_type in ("provider.timeout", "deadline"):
        return status.HTTP_504_GATEWAY_TIMEOUT, {}
    if error_type == "unavailable":
        return status.HTTP_503_SERVICE_UNAVAILABLE, {"Retry-After": str(RATE_LIMIT_RETRY_AFTER)}
    if error_type == "cancelled":
        return status.HTTP_409_CONFLICT, {}
    if error_type == "guardrail_blocked":
        return status.HTTP_400_BAD_REQUEST, {}
    if error_type in ("internal_error", "interrupted"):
        return status.HTTP_500_INTERNAL_SERVER_ERROR, {}
    return status.HTTP_502_BAD_GATEWAY, {}


def _failure_response(execution: Execution) -> JSONResponse:
    """An OpenAI-style error body with the status that names the failure."""
    message = execution.error_message or execution.status.value
    code, headers = _failure_status(execution.error_type)
    return JSONResponse(
        openai_error(message, code, code=execution.error_type),
        status_code=code,
        headers=headers,
    )


def _history(messages: list[ChatCompletionMessage]) -> list[ChatMessage]:
    """Earlier user and assistant turns; system prompts come from the agent itself."""
    return [
        ChatMessage(role=HISTORY_ROLES[m.role], content=m.text)
        for m in messages
        if m.role in HISTORY_ROLES
    ]


def _chunk_encoder(completion_id: str, created: int, model: str) -> EventEncoder:
    """Map run events to OpenAI chunks; tool activity stays server-side and is not sent."""

    def encode(event: RunEvent) -> ServerSentEvent | None:
        if event.name == events.EXECUTION_STARTED:
            delta = {"role": "assistant", "content": ""}
            return _chunk(completion_id, created, model, delta, None)
        if event.name == events.MESSAGE_DELTA:
            return _chunk(completion_id, created, model, {"content": event.data["text"]}, None)
        if event.name == events.EXECUTION_COMPLETED:
            return _chunk(completion_id, created, model, {}, "stop")
        if event.name == events.EXECUTION_FAILED:
            error = {"message": event.data["error_message"], "type": event.data["error_type"]}
            return ServerSentEvent(data=json.dumps({"error": error}))
        return None

    return encode


def _chunk(
    completion_id: str, created: int, model: str, delta: dict[str, str], finish: str | None
) -> ServerSentEvent:
    body = completion_chunk(
        chunk_id=completion_id, created=created, model=model, delta=delta, finish_reason=finish
    )
    return ServerSentEvent(data=json.dumps(body))
