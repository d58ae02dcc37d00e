"""API key schemas: the secret appears once, in the answer that creates it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from app.schemas.common import ReadModel, reject_nul

KeyName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(reject_nul),
]


class ApiKeyCreate(BaseModel):
    """A name to recognise the key by, and how long it should work (forever if unset)."""

    name: KeyName
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class ApiKeyRead(ReadModel):
    """A key as its owner sees it later: never the key itself."""

    id: uuid.UUID
    name: str
    prefix: str = Field(description="The key's first characters, to tell keys apart")
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    """The new key, with its secret: shown this once, so store it now."""

    key: str = Field(description="Send as `Authorization: Bearer <key>`; shown only once")
