"""Schemas shared by every entity: pagination and the error body."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

ItemT = TypeVar("ItemT")


class ReadModel(BaseModel):
    """Base for response models built from ORM objects."""

    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[ItemT]):
    """One page of a list: the items plus enough to ask for the next page."""

    items: list[ItemT]
    total: int
    skip: int
    limit: int


class ErrorBody(BaseModel):
    """What every 4xx and 5xx response carries."""

    detail: str
