"""An agent's version history, and rolling it back to an earlier version."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.access import Access, require
from app.api.audit import AuditDep
from app.api.deps import PaginationDep, RunManagerDep, SessionDep
from app.api.v1.endpoints.agents import guardrails_for
from app.api.v1.resources import AgentDep
from app.core.errors import NotFoundError
from app.crud import agent as agent_crud
from app.crud import agent_version as version_crud
from app.models import Agent, AgentVersion
from app.schemas.agent import AgentRead, AgentRollback, AgentVersionRead
from app.schemas.common import Page

router = APIRouter(prefix="/agents", tags=["agents"])

VersionNumber = Annotated[int, Path(ge=1, le=2_147_483_647, description="The version number")]


@router.get("/{agent_id}/versions", response_model=Page[AgentVersionRead])
async def list_versions(
    _access: Annotated[Access, require("agents:read")],
    agent: AgentDep,
    session: SessionDep,
    page: PaginationDep,
) -> Page[AgentVersionRead]:
    """The agent's recorded versions, newest first."""
    versions, total = await version_crud.get_page(
        session, agent_id=agent.id, skip=page.skip, limit=page.limit
    )
    return Page[AgentVersionRead].of(versions, total, page)


@router.get("/{agent_id}/versions/{version}", response_model=AgentVersionRead)
async def read_version(
    _access: Annotated[Access, require("agents:read")],
    agent: AgentDep,
    version: VersionNumber,
    session: SessionDep,
) -> AgentVersion:
    """One recorded version of the agent."""
    return await _version(session, agent, version)


@router.post("/{agent_id}/rollback", response_model=AgentRead)
async def roll_back(
    access: Annotated[Access, require("agents:write")],
    payload: AgentRollback,
    agent: AgentDep,
    session: SessionDep,
    runs: RunManagerDep,
    audit: AuditDep,
) -> Agent:
    """Make an earlier version current again, recorded as a new version equal to it.

    The old settings are checked as a new agent's would be: a provider or tool that is
    gone since is a 422, not a broken agent.
    """
    source = await _version(session, agent, payload.version)
    runs.check_config(provider=source.settings["provider"], tools=source.settings["tools"])
    guardrails_for(
        runs, source.settings.get("guardrails", []), provider=source.settings["provider"]
    )
    agent = await agent_crud.roll_back(session, agent=agent, source=source)
    await audit.record(
        session,
        "agent.rolled_back",
        organization_id=access.organization_id,
        actor_id=access.user_id,
        target_type="agent",
        target_id=agent.id,
        details={"from_version": source.version, "version": agent.version},
    )
    return agent


async def _version(session: AsyncSession, agent: Agent, version: int) -> AgentVersion:
    """The version, or a 404 naming what is missing."""
    found = await version_crud.get(session, agent_id=agent.id, version=version)
    if found is None:
        raise NotFoundError(f"Agent version {version} not found")
    return found
