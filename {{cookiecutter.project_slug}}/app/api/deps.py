"""Dependencies as named types, so routes read as what they need."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import AuthenticationError, PermissionDeniedError
from app.core.security import revocation
from app.core.security.tokens import TokenClaims, TokenType, decode_token
from app.core.store import KeyValueStore
from app.crud import user as user_crud
from app.db.session import Database
from app.models import User

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_store(request: Request) -> KeyValueStore:
    store: KeyValueStore = request.app.state.store
    return store


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
StoreDep = Annotated[KeyValueStore, Depends(get_store)]


async def get_session(database: DatabaseDep) -> AsyncIterator[AsyncSession]:
    """One transaction per request: commit on success, roll back on any error."""
    async with database.transaction() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_access_claims(
    settings: SettingsDep,
    store: StoreDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> TokenClaims:
    """A valid, unrevoked access token; refresh tokens never authorize a call."""
    if not token:
        raise AuthenticationError("Not authenticated")
    claims = decode_token(settings, token, TokenType.ACCESS)
    if await revocation.is_revoked(store, claims.jti):
        raise AuthenticationError("Token has been revoked")
    return claims


AccessClaims = Annotated[TokenClaims, Depends(get_access_claims)]


async def get_current_user(claims: AccessClaims, session: SessionDep) -> User:
    """The active user the access token names."""
    user = await user_crud.get(session, user_id=claims.subject)
    if user is None or not user.is_active:
        raise AuthenticationError()
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_admin_user(user: CurrentUser) -> User:
    """Admin-only routes are a 403 for everyone else."""
    if not user.is_admin:
        raise PermissionDeniedError("Administrator privileges required")
    return user


AdminUser = Annotated[User, Depends(get_admin_user)]


@dataclass(frozen=True, slots=True)
class Pagination:
    skip: int
    limit: int


def get_pagination(
    skip: Annotated[int, Query(ge=0, description="How many items to skip")] = 0,
    limit: Annotated[int, Query(ge=1, le=100, description="Page size")] = 20,
) -> Pagination:
    return Pagination(skip=skip, limit=limit)


PaginationDep = Annotated[Pagination, Depends(get_pagination)]

__all__ = [
    "AccessClaims",
    "AdminUser",
    "CurrentUser",
    "DatabaseDep",
    "PaginationDep",
    "SessionDep",
    "SettingsDep",
    "StoreDep",
]


async def limit_auth_attempts(request: Request) -> None:
    """Throttle register and login per client address and route."""
    client = request.client.host if request.client else "unknown"
    await request.app.state.rate_limiter.hit(f"{request.url.path}:{client}")


AuthRateLimit = Depends(limit_auth_attempts)
