"""What agents remember about the current user: see it, erase a part, or erase it all.

Memories are per person in the active organisation: nobody sees a teammate's.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from app.ai.memory import store
from app.ai.memory.store import MemoryOwner
from app.api.access import Access, require
from app.api.deps import PaginationDep, SessionDep
from app.core.errors import NotFoundError
from app.schemas.common import Page
from app.schemas.knowledge import MemoryRead

router = APIRouter(prefix="/memories", tags=["memories"])

CanRead = Annotated[Access, require("memories:read")]
CanWrite = Annotated[Access, require("memories:write")]


def _yours(access: Access) -> MemoryOwner:
    """The caller's own memories in the active organisation."""
    return MemoryOwner(organization_id=access.organization_id, user_id=access.user_id)


@router.get("", response_model=Page[MemoryRead])
async def list_memories(
    access: CanRead,
    session: SessionDep,
    page: PaginationDep,
    agent_id: Annotated[uuid.UUID | None, Query(description="Only this agent's")] = None,
) -> Page[MemoryRead]:
    """Everything agents keep about you in this organisation, most recently remembered first."""
    memories, total = await store.list_memories(
        session, owner=_yours(access), agent_id=agent_id, skip=page.skip, limit=page.limit
    )
    return Page[MemoryRead].of(memories, total, page)


@router.delete("/{memory_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_memory(
    access: CanWrite,
    memory_id: Annotated[uuid.UUID, Path(description="The memory's id")],
    session: SessionDep,
) -> None:
    """Erase one memory; no agent can recall it afterwards."""
    if not await store.forget(session, owner=_yours(access), memory_id=memory_id):
        raise NotFoundError("Memory not found")


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
async def delete_memories(
    access: CanWrite,
    session: SessionDep,
    agent_id: Annotated[uuid.UUID | None, Query(description="Only this agent's")] = None,
) -> None:
    """Erase every memory agents keep about you in this organisation (or one agent's)."""
    await store.forget_all(session, owner=_yours(access), agent_id=agent_id)
