"""The audit log: an organisation's chain for its owners and admins; the rest for administrators.

Each organisation's events form a chain of their own, read with `audit:read` in that
organisation (account events sit in the user's personal workspace's). Events of no known
user (a failed login for an unknown email) form the deployment's chain, which only
administrators read, as they alone may verify every chain at once.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import AfterValidator, AwareDatetime

from app.api.access import Access, require
from app.api.deps import AdminUser, DatabaseDep, PaginationDep, SessionDep
from app.api.error_responses import ADMIN_ONLY
from app.crud import audit as audit_crud
from app.crud import audit_verify
from app.schemas.audit import AuditEntryRead, AuditVerificationRead, ChainBreakRead
from app.schemas.common import Page, SafeText

router = APIRouter(prefix="/audit", tags=["audit"])
admin_router = APIRouter(prefix="/admin/audit", tags=["audit"])

NDJSON = "application/x-ndjson"


def _in_utc(value: datetime) -> datetime:
    """The same instant in UTC; one that UTC cannot express is bad input, not a 500."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("Time is out of range") from None


UtcTime = Annotated[AwareDatetime, AfterValidator(_in_utc)]


async def get_filter(
    action: Annotated[
        SafeText | None, Query(max_length=64, description="Exact action, e.g. auth.login")
    ] = None,
    actor_id: Annotated[uuid.UUID | None, Query(description="Who acted")] = None,
    target_type: Annotated[
        SafeText | None, Query(max_length=32, description="Kind of object, e.g. agent")
    ] = None,
    target_id: Annotated[SafeText | None, Query(max_length=64, description="Object's id")] = None,
    since: Annotated[
        UtcTime | None, Query(description="At or after this time (with a zone)")
    ] = None,
    until: Annotated[UtcTime | None, Query(description="Before this time (with a zone)")] = None,
) -> audit_crud.AuditFilter:
    """The same filters for the listing and the export."""
    return audit_crud.AuditFilter(
        action=action,
        actor_id=actor_id,
        target_type=target_type,
        target_id=target_id,
        since=since,
        until=until,
    )


FilterDep = Annotated[audit_crud.AuditFilter, Depends(get_filter)]
ReadsAudit = Annotated[Access, require("audit:read")]


async def _page(
    session: SessionDep,
    organization_id: uuid.UUID | None,
    page: PaginationDep,
    where: audit_crud.AuditFilter,
) -> Page[AuditEntryRead]:
    entries, total = await audit_crud.get_page(
        session, organization_id=organization_id, where=where, skip=page.skip, limit=page.limit
    )
    return Page[AuditEntryRead].of(entries, total, page)


def _export(
    database: DatabaseDep, organization_id: uuid.UUID | None, where: audit_crud.AuditFilter
) -> StreamingResponse:
    async def lines() -> AsyncIterator[str]:
        async with database.transaction() as session:
            async for entry in audit_crud.stream(
                session, organization_id=organization_id, where=where
            ):
                yield AuditEntryRead.model_validate(entry).model_dump_json() + "\n"

    return StreamingResponse(
        lines(),
        media_type=NDJSON,
        headers={"Content-Disposition": 'attachment; filename="audit.jsonl"'},
    )


def _verification(outcome: audit_verify.Verification) -> AuditVerificationRead:
    broken = outcome.first_break
    return AuditVerificationRead(
        ok=outcome.ok,
        chains=outcome.chains,
        entries=outcome.entries,
        first_break=None
        if broken is None
        else ChainBreakRead(
            organization_id=broken.organization_id,
            sequence=broken.sequence,
            entry_id=broken.entry_id,
            problem=broken.problem,
        ),
    )


EXPORTED: dict[int | str, dict[str, Any]] = {
    200: {"content": {NDJSON: {}}, "description": "One entry a line"}
}


@router.get("", response_model=Page[AuditEntryRead])
async def list_audit_entries(
    access: ReadsAudit, session: SessionDep, page: PaginationDep, where: FilterDep
) -> Page[AuditEntryRead]:
    """The active organisation's audit entries, newest first."""
    return await _page(session, access.organization_id, page, where)


@router.get("/export", responses=EXPORTED, response_class=StreamingResponse)
async def export_audit_entries(
    access: ReadsAudit, database: DatabaseDep, where: FilterDep
) -> StreamingResponse:
    """Every matching entry of the active organisation as JSON Lines, newest first, streamed."""
    return _export(database, access.organization_id, where)


@router.get("/verify", response_model=AuditVerificationRead)
async def verify_audit_log(access: ReadsAudit, session: SessionDep) -> AuditVerificationRead:
    """Recompute the active organisation's chain and report its first broken link."""
    return _verification(await audit_verify.verify_one(session, access.organization_id))


@admin_router.get("", response_model=Page[AuditEntryRead], responses=ADMIN_ONLY)
async def list_deployment_audit_entries(
    _admin: AdminUser, session: SessionDep, page: PaginationDep, where: FilterDep
) -> Page[AuditEntryRead]:
    """The deployment's entries (events of no known user), newest first (administrators only)."""
    return await _page(session, None, page, where)


@admin_router.get("/export", responses={**ADMIN_ONLY, **EXPORTED}, response_class=StreamingResponse)
async def export_deployment_audit_entries(
    _admin: AdminUser, database: DatabaseDep, where: FilterDep
) -> StreamingResponse:
    """The deployment's matching entries as JSON Lines, newest first (administrators only)."""
    return _export(database, None, where)


@admin_router.get("/verify", response_model=AuditVerificationRead, responses=ADMIN_ONLY)
async def verify_every_audit_chain(_admin: AdminUser, session: SessionDep) -> AuditVerificationRead:
    """Recompute every chain, each organisation's and the deployment's (administrators only)."""
    return _verification(await audit_verify.verify(session))
