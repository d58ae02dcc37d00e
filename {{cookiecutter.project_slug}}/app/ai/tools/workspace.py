"""Which organisation a tool call acts in, so it reads only that organisation's resources."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.tools.base import ToolContext, ToolError
from app.crud import organization as organization_crud


async def organization_of(session: AsyncSession, context: ToolContext) -> uuid.UUID:
    """The run's organisation, or the caller's personal workspace when the call names none."""
    if context.organization_id is not None:
        return context.organization_id
    personal = await organization_crud.get_personal_id(session, user_id=context.user_id)
    if personal is None:
        raise ToolError("Your account has no workspace to act in")
    return personal
