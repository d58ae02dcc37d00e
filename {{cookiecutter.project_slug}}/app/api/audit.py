"""The audit log as a request sees it: entries carry the request's id and client address."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.logging import current_request_id
from app.crud import audit as audit_crud
from app.crud import organization as organization_crud
from app.db.session import Database


@dataclass(frozen=True, slots=True)
class Audit:
    """Records this request's security-relevant events.

    `client_address` is the connecting peer, or the client a trusted proxy names (see
    TRUSTED_PROXIES), the same address rate limits use.
    """

    database: Database
    request_id: str | None
    client_address: str | None

    async def record(
        self,
        session: AsyncSession,
        action: str,
        *,
        organization_id: uuid.UUID | None,
        actor_id: uuid.UUID | None,
        target_type: str | None = None,
        target_id: uuid.UUID | str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Append in the action's own transaction: if the action rolls back, so does this."""
        await audit_crud.record(
            session,
            action=action,
            organization_id=organization_id,
            actor_id=actor_id,
            target_type=target_type,
            target_id=target_id,
            request_id=self.request_id,
            client_address=self.client_address,
            details=details,
        )

    async def record_alone(
        self,
        action: str,
        *,
        organization_id: uuid.UUID | None,
        actor_id: uuid.UUID | None,
        target_type: str | None = None,
        target_id: uuid.UUID | str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Append in a transaction of its own, for events whose request then fails."""
        async with self.database.transaction() as session:
            await self.record(
                session,
                action,
                organization_id=organization_id,
                actor_id=actor_id,
                target_type=target_type,
                target_id=target_id,
                details=details,
            )

    async def record_account(
        self,
        session: AsyncSession,
        action: str,
        *,
        user_id: uuid.UUID | None,
        actor_id: uuid.UUID | None,
        target_type: str | None = "user",
        target_id: uuid.UUID | str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """An event of `user_id`'s account, in their personal workspace's chain.

        With no known user (a failed login for an unknown email) it goes to the
        deployment's chain, which administrators read.
        """
        organization_id = await account_chain(session, user_id)
        await self.record(
            session,
            action,
            organization_id=organization_id,
            actor_id=actor_id,
            target_type=target_type,
            target_id=target_id,
            details=details,
        )

    async def record_account_alone(
        self,
        action: str,
        *,
        user_id: uuid.UUID | None,
        actor_id: uuid.UUID | None,
        target_type: str | None = "user",
        target_id: uuid.UUID | str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """As `record_account`, in a transaction of its own, for events whose request fails."""
        async with self.database.transaction() as session:
            await self.record_account(
                session,
                action,
                user_id=user_id,
                actor_id=actor_id,
                target_type=target_type,
                target_id=target_id,
                details=details,
            )


async def account_chain(session: AsyncSession, user_id: uuid.UUID | None) -> uuid.UUID | None:
    """Whose chain an account event joins: the user's personal workspace, else the deployment's."""
    if user_id is None:
        return None
    return await organization_crud.get_personal_id(session, user_id=user_id)


async def get_audit(request: Request) -> Audit:
    """The request's auditor, with its request id and client address."""
    return Audit(
        database=request.app.state.database,
        request_id=current_request_id(),
        client_address=request.client.host if request.client else None,
    )


AuditDep = Annotated[Audit, Depends(get_audit)]
