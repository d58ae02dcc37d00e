"""`remember` and `recall`: an agent keeps what its user tells it, and finds it again later.

Memories belong to the user and the agent of the run, in the run's organisation; the user
lists and erases them through `/api/v1/memories`. A teammate's run never reads them.
"""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.knowledge.embedders.source import EmbedderSource
from app.ai.memory import store
from app.ai.memory.store import MemoryOwner, MemoryPolicy
from app.ai.tools.base import Tool, ToolArguments, ToolContext
from app.ai.tools.workspace import organization_of
from app.schemas.common import reject_nul

MemoryText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=1_000),
    AfterValidator(reject_nul),
]


class RememberArgs(ToolArguments):
    """One self-contained fact, written so it makes sense without the conversation."""

    fact: MemoryText = Field(
        description="A short, self-contained fact about the user or their preferences."
    )


class RecallArgs(ToolArguments):
    """What to look for, and how many memories to return."""

    query: MemoryText = Field(description="What you want to remember about the user.")
    limit: int = Field(default=5, ge=1, le=20, description="How many memories to return.")


async def _owner(session: AsyncSession, context: ToolContext) -> MemoryOwner:
    """The caller's memories in the organisation the run acts in."""
    return MemoryOwner(
        organization_id=await organization_of(session, context), user_id=context.user_id
    )


class RememberTool(Tool[RememberArgs]):
    """Keeps a fact about the user for later conversations; near-copies replace the old one."""

    name = "remember"
    description = (
        "Save a lasting fact about the user (a preference, a detail they asked you to keep) "
        "for future conversations. Write it self-contained, e.g. 'Prefers metric units'. "
        "The user can see and erase what you save."
    )
    arguments = RememberArgs
    timeout_seconds = 30.0

    def __init__(self, embedders: EmbedderSource, policy: MemoryPolicy) -> None:
        self._embedders = embedders
        self._policy = policy

    async def run(self, args: RememberArgs, context: ToolContext) -> str:
        """Whether the fact was new or updated one already kept, and its id."""
        async with context.database.transaction() as session:
            memory, created = await store.remember(
                session,
                self._embedders.get(),
                owner=await _owner(session, context),
                agent_id=context.agent_id,
                text=args.fact,
                policy=self._policy,
            )
        outcome = "remembered" if created else "updated an existing memory"
        return json.dumps({"status": outcome, "memory_id": str(memory.id)})


class RecallTool(Tool[RecallArgs]):
    """Finds what the user told this agent before, most relevant and most recent first."""

    name = "recall"
    description = (
        "Look up facts saved about the user in earlier conversations. Returns the most "
        "relevant memories first, with when each was saved."
    )
    arguments = RecallArgs
    timeout_seconds = 30.0

    def __init__(self, embedders: EmbedderSource, policy: MemoryPolicy) -> None:
        self._embedders = embedders
        self._policy = policy

    async def run(self, args: RecallArgs, context: ToolContext) -> str:
        """The matching memories as JSON: id, text, when kept, and score."""
        async with context.database.transaction() as session:
            found = await store.recall(
                session,
                self._embedders.get(),
                owner=await _owner(session, context),
                agent_id=context.agent_id,
                query=args.query,
                limit=args.limit,
                policy=self._policy,
            )
            memories = [
                {
                    "memory_id": str(item.memory.id),
                    "text": item.memory.text,
                    "remembered_at": item.memory.updated_at.isoformat(),
                    "score": item.score,
                }
                for item in found
            ]
        return json.dumps({"memories": memories}, ensure_ascii=False)
