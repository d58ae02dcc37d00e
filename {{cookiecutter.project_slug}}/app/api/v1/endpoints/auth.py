"""Registration, login, token refresh and logout."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from app.api.audit import AuditDep
from app.api.auth_attempts import AuthAttemptDep
from app.api.deps import (
    SESSION_ENDED,
    AccessClaims,
    RevocationsDep,
    SessionDep,
    SettingsDep,
    check_password_length,
)
from app.api.error_responses import THROTTLED
from app.core.config import Settings
from app.core.errors import AuthenticationError, ConflictError
from app.core.security.passwords import hash_password, verify_password
from app.core.security.tokens import TokenType, create_token, decode_token, new_family
from app.crud import user as user_crud
from app.models import User
from app.schemas.common import ErrorBody
from app.schemas.user import LogoutRequest, RefreshRequest, TokenPair, UserCreate, UserRead

router = APIRouter(prefix="/auth", tags=["auth"])
logger = structlog.get_logger(__name__)

REFRESH_REFUSED = "Refresh token has already been used or revoked"


def issue_tokens(settings: Settings, user: User, *, family: str | None = None) -> TokenPair:
    """A fresh access and refresh token for the user, in `family` (a new sign-in when None)."""
    family = family or new_family()
    return TokenPair(
        access_token=create_token(
            settings, user.id, TokenType.ACCESS, version=user.token_version, family=family
        ),
        refresh_token=create_token(
            settings, user.id, TokenType.REFRESH, version=user.token_version, family=family
        ),
        expires_in=settings.access_token_expire_minutes * 60,
    )


def family_lifetime_seconds(settings: Settings) -> int:
    """How long a family's revocation is kept: no token of it outlives this."""
    return settings.refresh_token_expire_days * 86_400 + 1


def no_store(response: Response) -> None:
    """Tokens must not be kept by browsers or proxies (RFC 6749, section 5.1)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"


@router.post(
    "/register",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    responses=THROTTLED,
)
async def register(
    attempt: AuthAttemptDep,
    payload: UserCreate,
    session: SessionDep,
    settings: SettingsDep,
    audit: AuditDep,
) -> User:
    """Create an account; the email must be new (compared case-insensitively).

    A taken email counts as a failed attempt, so probing which emails have accounts
    slows down like guessing passwords does.
    """
    await attempt.check(payload.email)
    check_password_length(settings, payload.password)
    if await user_crud.get_by_email(session, email=payload.email) is not None:
        await attempt.failed(payload.email)
        raise ConflictError("A user with this email already exists")
    user = await user_crud.create(
        session,
        email=payload.email,
        hashed_password=await hash_password(payload.password),
        full_name=payload.full_name,
    )
    await audit.record_account(
        session,
        "auth.registered",
        user_id=user.id,
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
    )
    return user


@router.post(
    "/login",
    response_model=TokenPair,
    responses={
        **THROTTLED,
        status.HTTP_401_UNAUTHORIZED: {"model": ErrorBody, "description": "Wrong credentials"},
    },
)
async def login(
    attempt: AuthAttemptDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    audit: AuditDep,
) -> TokenPair:
    """Trade email and password (OAuth2 password form) for an access and a refresh token.

    Throttled per client address and per account; failures past the free ones make
    both wait longer each time (429 with Retry-After), so guessing slows to a crawl.
    """
    no_store(response)
    await attempt.check(form.username)
    user = await user_crud.get_by_email(session, email=form.username)
    password_ok = await verify_password(form.password, user.hashed_password if user else None)
    if user is None or not password_ok:
        await attempt.failed(form.username)
        reason = "unknown_account" if user is None else "wrong_password"
        await audit.record_account_alone(
            "auth.login_failed",
            user_id=None if user is None else user.id,
            actor_id=None,
            target_type="user",
            target_id=None if user is None else user.id,
            details={"reason": reason},
        )
        raise AuthenticationError("Incorrect email or password")
    if not user.is_active:
        await audit.record_account_alone(
            "auth.login_failed",
            user_id=user.id,
            actor_id=None,
            target_type="user",
            target_id=user.id,
            details={"reason": "disabled"},
        )
        raise AuthenticationError("This account is disabled")
    await attempt.succeeded(form.username)
    await audit.record_account(
        session,
        "auth.login",
        user_id=user.id,
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
    )
    return issue_tokens(settings, user)


@router.post(
    "/refresh",
    response_model=TokenPair,
    responses={
        status.HTTP_401_UNAUTHORIZED: {"model": ErrorBody, "description": "Token not valid"}
    },
)
async def refresh(
    payload: RefreshRequest,
    session: SessionDep,
    settings: SettingsDep,
    revocations: RevocationsDep,
    response: Response,
    audit: AuditDep,
) -> TokenPair:
    """Rotate a refresh token: the one presented is spent, and reusing it ends the sign-in.

    A spent token that comes back means two parties hold it. Which one is the thief is
    unknown, so the whole family is revoked, the newer tokens rotated from it included.
    """
    no_store(response)
    claims = decode_token(settings, payload.refresh_token, TokenType.REFRESH)
    if await revocations.is_family_revoked(claims.family):
        raise AuthenticationError(REFRESH_REFUSED)
    if not await revocations.consume(claims):
        await revocations.revoke_family(
            claims.family, ttl_seconds=family_lifetime_seconds(settings)
        )
        logger.warning("refresh_token_reused", user_id=str(claims.subject))
        await audit.record_account_alone(
            "auth.refresh_reused",
            user_id=claims.subject,
            actor_id=claims.subject,
            target_type="user",
            target_id=claims.subject,
            details={"revoked": "family"},
        )
        raise AuthenticationError(REFRESH_REFUSED)
    user = await user_crud.get(session, user_id=claims.subject)
    if user is None or not user.is_active:
        raise AuthenticationError()
    if claims.version != user.token_version:
        raise AuthenticationError(SESSION_ENDED)
    return issue_tokens(settings, user, family=claims.family)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    claims: AccessClaims,
    settings: SettingsDep,
    revocations: RevocationsDep,
    audit: AuditDep,
    payload: LogoutRequest | None = None,
) -> Response:
    """End the sign-in: the access token in use and every token of its family.

    A refresh token sent along from another sign-in of the same user ends that one too;
    one that is invalid, expired or someone else's is left alone: it cannot be used
    anyway, and logging out should not fail half-way.
    """
    await revocations.revoke(claims)
    ttl_seconds = family_lifetime_seconds(settings)
    await revocations.revoke_family(claims.family, ttl_seconds=ttl_seconds)
    if payload and payload.refresh_token:
        try:
            refresh_claims = decode_token(settings, payload.refresh_token, TokenType.REFRESH)
        except AuthenticationError:
            refresh_claims = None
        if refresh_claims is not None and refresh_claims.subject == claims.subject:
            await revocations.revoke(refresh_claims)
            await revocations.revoke_family(refresh_claims.family, ttl_seconds=ttl_seconds)
    await audit.record_account_alone(
        "auth.logout",
        user_id=claims.subject,
        actor_id=claims.subject,
        target_type="user",
        target_id=claims.subject,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
