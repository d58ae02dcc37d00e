"""Message schemas: messages are written by agent runs and only read through the API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from app.models import MessageRole
from app.schemas.common import ReadModel


class MessageRead(ReadModel):
    """A stored message as the API shows it, tool calls included."""

    id: uuid.UUID
    conversation_id: uuid.UUID
    sequence: int
    role: MessageRole
    content: str
    tool_calls: list[dict[str, Any]]
    tool_call_id: str | None
    name: str | None
    input_tokens: int
    output_tokens: int
    execution_id: uuid.UUID | None
    incomplete: bool
    created_at: datetime
