"""Schemas shared by every entity: pagination and the error body."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict

ItemT = TypeVar("ItemT")


def reject_nul(value: str) -> str:
    """PostgreSQL text cannot hold NUL characters, so refuse them as bad input, not a 500."""
    if "\x00" in value:
        raise ValueError("Text must not contain NUL characters")
    return value


SafeText = Annotated[str, AfterValidator(reject_nul)]


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
