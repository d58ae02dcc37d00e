"""Shared schema rules: partial updates refuse nulls columns cannot hold; pages build one way."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from pydantic import ValidationError

from app.schemas.agent import AgentUpdate
from app.schemas.common import Page, ReadModel
from app.schemas.conversation import ConversationUpdate


def test_only_the_fields_sent_are_changes() -> None:
    update = AgentUpdate.model_validate({"name": "renamed", "description": None})
    assert update.changes() == {"name": "renamed", "description": None}


def test_a_null_is_refused_where_the_column_cannot_hold_it() -> None:
    with pytest.raises(ValidationError, match="These fields may not be null: model, name"):
        AgentUpdate.model_validate({"name": None, "model": None, "description": None})


def test_a_refused_null_is_named_as_the_client_sent_it() -> None:
    with pytest.raises(ValidationError, match="These fields may not be null: metadata, title"):
        ConversationUpdate.model_validate({"metadata": None, "title": None})
    update = ConversationUpdate.model_validate({"metadata": {"k": "v"}})
    assert update.changes() == {"meta": {"k": "v"}}


@dataclass(frozen=True)
class Row:
    """Stands in for an ORM row: read by attribute."""

    label: str


class RowRead(ReadModel):
    label: str


@dataclass(frozen=True)
class Window:
    skip: int
    limit: int


def test_a_page_is_built_from_rows_read_by_attribute() -> None:
    page = Page[RowRead].of([Row("a"), Row("b")], 7, Window(skip=2, limit=2))
    assert page.model_dump() == {
        "items": [{"label": "a"}, {"label": "b"}],
        "total": 7,
        "skip": 2,
        "limit": 2,
    }
