"""Dependencies as named types, so routes read as what they need."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.knowledge.background import IngestionQueue
from app.ai.knowledge.embedders.source import EmbedderSource
from app.ai.providers.factory import ProviderFactory
from app.ai.runs import RunManager
from app.ai.tools.manager import ToolManager
from app.ai.tools.registry import ToolRegistry
from app.core.config import Settings
from app.core.errors import AuthenticationError, PermissionDeniedError
from app.core.security.api_keys import looks_like_api_key
from app.core.security.passwords import too_short_message
from app.core.security.revocation import Revocations
from app.core.security.tokens import TokenClaims, TokenType, decode_token
from app.core.store import KeyValueStore
from app.crud import api_key as api_key_crud
from app.crud import user as user_crud
from app.crud.user_cache import Caller, UserCache
from app.db.session import Database

# Offsets past any realistic table; larger ones would overflow the databases' integers.
MAX_SKIP = 1_000_000_000

# A password, role or active-flag change since the token was issued.
SESSION_ENDED = "Session has ended; sign in again"
# Credentials and sessions are managed signed in, so a leaked key cannot entrench itself.
API_KEY_NOT_ENOUGH = "Sign in with your password for this; an API key cannot do it"

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)


async def get_settings(request: Request) -> Settings:
    """The settings the application was built with (tests pass their own)."""
    settings: Settings = request.app.state.settings
    return settings


async def get_database(request: Request) -> Database:
    """The SQLAlchemy engine and session factory the lifespan opened."""
    database: Database = request.app.state.database
    return database


async def get_store(request: Request) -> KeyValueStore:
    """The key-value store: Redis when configured, process memory otherwise."""
    store: KeyValueStore = request.app.state.store
    return store


async def get_revocations(request: Request) -> Revocations:
    """Revoked tokens and sign-ins: checked in the store, kept in the database too."""
    revocations: Revocations = request.app.state.revocations
    return revocations


async def get_run_manager(request: Request) -> RunManager:
    """The run manager the lifespan started: it prepares, launches and cancels runs."""
    runs: RunManager = request.app.state.runs
    return runs


async def get_providers(request: Request) -> ProviderFactory:
    """The providers configured for agents to use."""
    providers: ProviderFactory = request.app.state.providers
    return providers


async def get_tool_registry(request: Request) -> ToolRegistry:
    """Every tool the application offers."""
    registry: ToolRegistry = request.app.state.tools
    return registry


async def get_tool_manager(request: Request) -> ToolManager:
    """Runs tool calls under the same limits as an agent's."""
    manager: ToolManager = request.app.state.tool_manager
    return manager


async def get_embedders(request: Request) -> EmbedderSource:
    """The embedder knowledge bases and memories are embedded with."""
    embedders: EmbedderSource = request.app.state.embedders
    return embedders


async def get_ingestion(request: Request) -> IngestionQueue:
    """Indexes uploaded documents in the background."""
    ingestion: IngestionQueue = request.app.state.ingestion
    return ingestion


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
StoreDep = Annotated[KeyValueStore, Depends(get_store)]
RevocationsDep = Annotated[Revocations, Depends(get_revocations)]
RunManagerDep = Annotated[RunManager, Depends(get_run_manager)]
ProvidersDep = Annotated[ProviderFactory, Depends(get_providers)]
ToolRegistryDep = Annotated[ToolRegistry, Depends(get_tool_registry)]
ToolManagerDep = Annotated[ToolManager, Depends(get_tool_manager)]
EmbeddersDep = Annotated[EmbedderSource, Depends(get_embedders)]
IngestionDep = Annotated[IngestionQueue, Depends(get_ingestion)]


async def get_session(database: DatabaseDep) -> AsyncIterator[AsyncSession]:
    """One transaction per request: commit what it wrote, roll back on any error.

    The session connects at its first statement: a request that needs no row (a signed-in
    user found in the cache) costs the database nothing.
    """
    async with database.transaction() as session:
        yield session


# scope="function" commits before the response is sent: a client that reads its 201 can
# rely on the row existing, and a failed commit becomes an error response, not a lost write.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def _access_token_claims(settings: Settings, token: str | None) -> TokenClaims:
    """A well-signed, unexpired access token's claims; refresh tokens and API keys refused."""
    if not token:
        raise AuthenticationError("Not authenticated")
    if looks_like_api_key(token):
        raise PermissionDeniedError(API_KEY_NOT_ENOUGH)
    return decode_token(settings, token, TokenType.ACCESS)


async def get_access_claims(
    settings: SettingsDep,
    revocations: RevocationsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> TokenClaims:
    """A valid, unrevoked access token; refresh tokens never authorize a call.

    The revocation check fails closed: with the store or the database away it raises,
    and the request is a 503 with Retry-After, never let through unchecked.
    """
    claims = _access_token_claims(settings, token)
    if await revocations.is_refused(claims):
        raise AuthenticationError("Token has been revoked")
    return claims


AccessClaims = Annotated[TokenClaims, Depends(get_access_claims)]


async def get_signed_in_user(
    request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Caller:
    """The active user an access token names, if nothing ended its session since.

    The revocation check and the user's cache entry are one store round trip; only a
    user missing from the cache costs a row read (in a transaction of its own, so a
    request that needs no other row opens none), which also compares the token version.
    """
    state = request.app.state
    users: UserCache = state.users
    claims = _access_token_claims(state.settings, token)
    revocations: Revocations = state.revocations
    refused, cached = await revocations.check(claims, also=users.keys(claims.subject))
    if refused:
        raise AuthenticationError("Token has been revoked")
    caller = users.lookup(cached, claims)
    if caller is not None:
        return caller
    database: Database = state.database
    async with database.transaction() as session:
        user = await user_crud.get(session, user_id=claims.subject)
    if user is None or not user.is_active:
        raise AuthenticationError()
    if claims.version != user.token_version:
        raise AuthenticationError(SESSION_ENDED)
    return await users.remember(user, cached)


# Signed in with a password: what managing credentials (API keys) requires.
SignedInUser = Annotated[Caller, Depends(get_signed_in_user)]


async def get_current_user(
    request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Caller:
    """The caller, by access token or by API key; either is sent as a bearer credential.

    Found once per request and kept on it: FastAPI caches a dependency per set of OAuth2
    scopes, and a route's permission check asks under its own.
    """
    known: Caller | None = getattr(request.state, "caller", None)
    if known is not None:
        return known
    if token and looks_like_api_key(token):
        database: Database = request.app.state.database
        async with database.transaction() as session:
            key = await api_key_crud.find_usable(session, key=token)
            user = None if key is None else await user_crud.get(session, user_id=key.owner_id)
        if user is None or not user.is_active:
            raise AuthenticationError("Invalid or expired API key")
        caller = Caller.of(user)
    else:
        caller = await get_signed_in_user(request, token)
    request.state.caller = caller
    return caller


CurrentUser = Annotated[Caller, Depends(get_current_user)]


async def get_admin_user(user: CurrentUser) -> Caller:
    """Admin-only routes are a 403 for everyone else."""
    if not user.is_admin:
        raise PermissionDeniedError("Administrator privileges required")
    return user


AdminUser = Annotated[Caller, Depends(get_admin_user)]


@dataclass(frozen=True, slots=True)
class Pagination:
    """Where a page starts and how long it is."""

    skip: int
    limit: int


async def get_pagination(
    skip: Annotated[int, Query(ge=0, le=MAX_SKIP, description="How many items to skip")] = 0,
    limit: Annotated[int, Query(ge=1, le=100, description="Page size")] = 20,
) -> Pagination:
    """The same `skip`/`limit` bounds on every list."""
    return Pagination(skip=skip, limit=limit)


PaginationDep = Annotated[Pagination, Depends(get_pagination)]


def check_password_length(settings: Settings, password: str | None) -> None:
    """Apply the configured minimum length, which the schemas cannot see.

    Raised as a validation error, so the 422 body has the same shape as the schema's.
    """
    if password is not None and len(password) < settings.password_min_length:
        raise RequestValidationError(
            [
                {
                    "type": "string_too_short",
                    "loc": ("body", "password"),
                    "msg": too_short_message(settings.password_min_length),
                    "ctx": {"min_length": settings.password_min_length},
                }
            ]
        )


__all__ = [
    "AccessClaims",
    "AdminUser",
    "Caller",
    "CurrentUser",
    "DatabaseDep",
    "PaginationDep",
    "ProvidersDep",
    "RevocationsDep",
    "RunManagerDep",
    "SessionDep",
    "SettingsDep",
    "StoreDep",
    "ToolManagerDep",
    "ToolRegistryDep",
    "check_password_length",
]
