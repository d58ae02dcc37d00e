"""A tool context for a fresh, unsaved user id: tools never look the user up."""

from __future__ import annotations

import uuid

import pytest

from app.ai.tools.base import ToolContext
from app.core.config import Settings
from app.db.session import Database


@pytest.fixture
def tool_context(settings: Settings, database: Database) -> ToolContext:
    return ToolContext(settings=settings, database=database, user_id=uuid.uuid4())
