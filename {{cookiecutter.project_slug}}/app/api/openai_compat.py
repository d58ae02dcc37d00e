"""`POST /v1/chat/completions`: any OpenAI client can talk to an agent.

`model` names one of the caller's agents (by id or name) and the bearer token is the
caller's access token. The agent's own prompt, model, sampling and tools apply; tool
calls run server-side, so clients only ever see the final text.
"""

from __future__ import annotations

import asyncio
import json
import time

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse, ServerSentEvent

from app.ai.providers.base import ChatMessage, Role
from app.ai.runs import events
from app.ai.runs.events import RunEvent
from app.api.deps import CurrentUser, RunManagerDep, SessionDep, SettingsDep
from app.api.error_responses import THROTTLED
from app.api.streaming import EventEncoder, stream_run
from app.api.user_limits import RunLimit
from app.core.errors import NotFoundError, UnprocessableError
from app.crud import agent as agent_crud
from app.models import ExecutionStatus
from app.schemas.openai_compat import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionMessage,
    ChatCompletionRequest,
    Choice,
    CompletionUsage,
    completion_chunk,
)

router = APIRouter(prefix="/v1", tags=["openai-compatible"])

HISTORY_ROLES = {"user": Role.USER, "assistant": Role.ASSISTANT}


@router.post("/chat/completions", response_model=ChatCompletion, responses=THROTTLED)
async def create_chat_completion(
    _limit: RunLimit,
    payload: ChatCompletionRequest,
    user: CurrentUser,
    session: SessionDep,
    runs: RunManagerDep,
    settings: SettingsDep,
) -> ChatCompletion | EventSourceResponse | JSONResponse:
    """Run an agent on an OpenAI-style conversation; plain or streamed like OpenAI does."""
    agent = await agent_crud.get_by_id_or_name(session, owner_id=user.id, key=payload.model)
    if agent is None:
        raise NotFoundError(f"No agent with id or name '{payload.model}'")
    *earlier, last = payload.messages
    if last.role != "user" or not last.text.strip():
        raise UnprocessableError("The last message must be a non-empty user message")
    prepared = await runs.prepare(
        user_id=user.id,
        agent=agent,
        message=last.text,
        prior_messages=_history(earlier),
    )
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
    if execution.status is not ExecutionStatus.COMPLETED:
        message = execution.error_message or execution.status.value
        return JSONResponse(
            {"detail": message, "error": {"message": message, "type": execution.error_type}},
            status_code=status.HTTP_502_BAD_GATEWAY,
        )
    return ChatCompletion(
        id=completion_id,
        created=created,
        model=payload.model,
        choices=[Choice(message=AssistantMessage(content=execution.output))],
        usage=CompletionUsage(
            prompt_tokens=execution.input_tokens,
            completion_tokens=execution.output_tokens,
            total_tokens=execution.input_tokens + execution.output_tokens,
        ),
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
