"""Schemas shared by every entity: text rules, partial updates, pagination and the error body."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, ClassVar, Generic, Protocol, Self, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator

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


class PartialUpdate(BaseModel):
    """Base for PATCH bodies: only the fields sent change, and null only where it may be stored.

    Subclasses declare every field optional and list in `nullable` the ones whose column
    accepts null; an explicit null anywhere else is a 422, not a database error.
    """

    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _refuse_nulls(self) -> Self:
        """An explicit null would otherwise reach a NOT NULL column."""
        nulls = sorted(
            name
            for name in self.model_fields_set
            if name not in self.nullable and getattr(self, name) is None
        )
        if nulls:
            fields = type(self).model_fields
            names = ", ".join(fields[name].alias or name for name in nulls)
            raise ValueError(f"These fields may not be null: {names}")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, keyed by model attribute, ready for the crud layer."""
        return self.model_dump(exclude_unset=True)


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
