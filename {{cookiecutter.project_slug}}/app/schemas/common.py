"""Schemas shared by every entity: text rules, partial updates, pagination and the error body."""

from __future__ import annotations

import json
import math
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


def check_json_object(
    value: dict[str, Any], *, label: str, max_bytes: int, max_depth: int = 32
) -> dict[str, Any]:
    """Bounded, storable JSON: a size and depth cap, no NUL, no NaN or infinities.

    PostgreSQL's JSONB refuses NUL characters, NaN and infinities, and very deep nesting
    cannot be serialised back, so each is a 422 here rather than a 500 later.
    """
    _check_json_value(value, label=label, max_depth=max_depth)
    try:
        size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    except UnicodeEncodeError:
        raise ValueError(f"{label} must be valid Unicode (no lone surrogates)") from None
    if size > max_bytes:
        raise ValueError(f"{label} must be at most {max_bytes} bytes as JSON")
    return value


def _check_json_value(value: Any, *, label: str, max_depth: int, depth: int = 1) -> None:
    if depth > max_depth:
        raise ValueError(f"{label} must nest at most {max_depth} levels deep")
    if isinstance(value, str):
        reject_nul(value)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{label} numbers must be finite")
    elif isinstance(value, dict):
        for key, item in value.items():
            reject_nul(key)
            _check_json_value(item, label=label, max_depth=max_depth, depth=depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_json_value(item, label=label, max_depth=max_depth, depth=depth + 1)


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


class OpenAIError(BaseModel):
    """OpenAI's error object, which its SDKs read to show a useful message."""

    message: str
    type: str
    param: str | None
    code: str | None


class OpenAIErrorBody(BaseModel):
    """What every error under `/v1` carries, as OpenAI's API answers."""

    error: OpenAIError


class ValidationProblem(BaseModel):
    """One field a 422 refused: where it is, what is wrong, and a machine-readable kind."""

    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorBody(BaseModel):
    """What every 422 carries: one entry per refused field."""

    detail: list[ValidationProblem]
