"""A tool context for a fresh, unsaved user id: tools never look the user up."""

from __future__ import annotations

import uuid

import pytest

from app.ai.tools.base import ToolContext
from app.db.session import Database


@pytest.fixture
def tool_context(database: Database) -> ToolContext:
    return ToolContext(user_id=uuid.uuid4(), database=database)
