"""Summaries of the turns too old to resend, made once and stored on the conversation.

The summarising call and each read and write are steps, so a resumed run repeats none.
The scripted provider is not asked: a marker counting the dropped turns stands for them,
as it does, unstored, when the summarising call fails.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import structlog
from sqlalchemy import or_, select, update

from app.ai.providers.base import Completion, CompletionRequest, ProviderError
from app.ai.runs import durable
from app.ai.runs.history import MARKER_PATTERN, Fitted, marker, summary_request
from app.ai.runs.types import PreparedRun, RunTally
from app.core.config import Settings
from app.db.session import Database
from app.models import Conversation

logger = structlog.get_logger(__name__)

SCRIPTED = "scripted"

ModelCall = Callable[[CompletionRequest], Awaitable[Completion]]


async def load(database: Database, conversation_id: uuid.UUID) -> tuple[str | None, int | None]:
    """The stored summary and the sequence number of the last message it covers."""
    async with database.transaction() as session:
        row = (
            await session.execute(
                select(Conversation.summary, Conversation.summary_through).where(
                    Conversation.id == conversation_id
                )
            )
        ).one_or_none()
    return (row.summary, row.summary_through) if row else (None, None)


async def store(database: Database, conversation_id: uuid.UUID, summary: str, through: int) -> None:
    """Keep the summary unless one covering more of the conversation was stored meanwhile."""
    async with database.transaction() as session:
        await session.execute(
            update(Conversation)
            .where(
                Conversation.id == conversation_id,
                or_(Conversation.summary_through.is_(None), Conversation.summary_through < through),
            )
            .values(summary=summary, summary_through=through)
        )


async def summary_for(
    fitted: Fitted,
    *,
    settings: Settings,
    database: Database,
    prepared: PreparedRun,
    provider_name: str,
    call: ModelCall,
    tally: RunTally,
) -> str | None:
    """The summary to send in place of the dropped turns, brought up to date if needed."""
    through = fitted.through
    if through is None:
        return None
    previous, previous_through = await durable.step(
        "read_summary", load, database, prepared.conversation_id
    )
    turns = fitted.unsummarised(previous_through)
    if previous and not turns:
        return previous
    if provider_name == SCRIPTED:
        summary = marker(fitted.omitted)
    else:
        request = summary_request(
            prepared.agent.model,
            None if previous is None or _is_marker(previous) else previous,
            turns,
            settings.history_summary_max_tokens,
            settings.history_token_budget,
        )
        completion = await durable.step("summarise_history", _summarise, call, request, prepared)
        if completion is None or not completion.content.strip():
            return marker(fitted.omitted)
        tally.add(prepared.agent.model, completion.usage)
        summary = completion.content.strip()
    await durable.step(
        "record_summary", store, database, prepared.conversation_id, summary, through
    )
    return summary


async def _summarise(
    call: ModelCall, request: CompletionRequest, prepared: PreparedRun
) -> Completion | None:
    """The model's summary, or None when it cannot give one: the run goes on without it."""
    try:
        return await call(request)
    except ProviderError as exc:
        logger.warning(
            "history_summary_failed",
            execution_id=str(prepared.execution_id),
            conversation_id=str(prepared.conversation_id),
            error=str(exc),
        )
        return None


def _is_marker(summary: str) -> bool:
    return MARKER_PATTERN.fullmatch(summary) is not None
