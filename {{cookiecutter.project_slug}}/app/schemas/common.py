"""Schemas shared by every entity: pagination and the error body."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Generic, Protocol, Self, TypeVar

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


class PageWindow(Protocol):
    """Where a page starts and how long it is, as the API's pagination dependency gives it."""

    @property
    def skip(self) -> int:
        """How many items come before this page."""
        ...

    @property
    def limit(self) -> int:
        """The most items this page may hold."""
        ...


class Page(BaseModel, Generic[ItemT]):
    """One page of a list: the items plus enough to ask for the next page."""

    items: list[ItemT]
    total: int
    skip: int
    limit: int

    @classmethod
    def of(cls, items: Iterable[object], total: int, window: PageWindow) -> Self:
        """Every list endpoint's page, built one way; ORM rows are read by attribute."""
        return cls.model_validate(
            {"items": list(items), "total": total, "skip": window.skip, "limit": window.limit},
            from_attributes=True,
        )


class ErrorBody(BaseModel):
    """What every 4xx and 5xx response carries."""

    detail: str
