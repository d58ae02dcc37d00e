"""The current user's API keys: created and revoked from a signed-in session only.

A key authenticates like an access token everywhere else, but cannot mint or list keys:
a leaked key cannot make itself permanent.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi import APIRouter, status

from app.api.audit import AuditDep
from app.api.deps import PaginationDep, SessionDep, SignedInUser
from app.core.errors import ConflictError, NotFoundError
from app.crud import api_key as api_key_crud
from app.db.types import utc_now
from app.schemas.api_key import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from app.schemas.common import Page

router = APIRouter(prefix="/api-keys", tags=["api-keys"])

# Enough for every client and script a person runs; more is a leak waiting to happen.
MAX_KEYS_PER_USER = 50


@router.post("", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED)
async def create_api_key(
    payload: ApiKeyCreate, user: SignedInUser, session: SessionDep, audit: AuditDep
) -> ApiKeyCreated:
    """A new key, shown in this answer only; send it as `Authorization: Bearer <key>`."""
    if await api_key_crud.count(session, owner_id=user.id) >= MAX_KEYS_PER_USER:
        raise ConflictError(f"You already have {MAX_KEYS_PER_USER} API keys; delete one first")
    expires_at = (
        utc_now() + timedelta(days=payload.expires_in_days) if payload.expires_in_days else None
    )
    row, key = await api_key_crud.create(
        session, owner_id=user.id, name=payload.name, expires_at=expires_at
    )
    await audit.record_account(
        session,
        "api_key.created",
        user_id=user.id,
        actor_id=user.id,
        target_type="api_key",
        target_id=row.id,
        details={"name": row.name, "prefix": row.prefix},
    )
    return ApiKeyCreated.model_validate({**ApiKeyRead.model_validate(row).model_dump(), "key": key})


@router.get("", response_model=Page[ApiKeyRead])
async def list_api_keys(
    user: SignedInUser, session: SessionDep, page: PaginationDep
) -> Page[ApiKeyRead]:
    """Your keys, newest first, without their secrets."""
    keys, total = await api_key_crud.get_page(
        session, owner_id=user.id, skip=page.skip, limit=page.limit
    )
    return Page[ApiKeyRead].of(keys, total, page)


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_api_key(
    key_id: uuid.UUID, user: SignedInUser, session: SessionDep, audit: AuditDep
) -> None:
    """Revoke a key at once: its next request is refused."""
    key = await api_key_crud.get(session, owner_id=user.id, key_id=key_id)
    if key is None:
        raise NotFoundError("API key not found")
    await api_key_crud.delete(session, key=key)
    await audit.record_account(
        session,
        "api_key.revoked",
        user_id=user.id,
        actor_id=user.id,
        target_type="api_key",
        target_id=key.id,
        details={"name": key.name, "prefix": key.prefix},
    )
