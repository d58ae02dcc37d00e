"""The active organisation's agents."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.guardrails.catalog import default_registry
from app.ai.guardrails.validation import checked_guardrails
from app.ai.knowledge import repository as knowledge
from app.ai.runs import RunManager
from app.api.access import Access, require
from app.api.audit import AuditDep
from app.api.deps import PaginationDep, RunManagerDep, SessionDep, SettingsDep
from app.api.v1.resources import AgentDep
from app.core.errors import ConflictError
from app.crud import agent as agent_crud
from app.models import Agent
from app.schemas.agent import AgentConfig, AgentCreate, AgentRead, AgentUpdate
from app.schemas.common import Page, SafeText

router = APIRouter(prefix="/agents", tags=["agents"])

CONFIG_FIELDS = frozenset(AgentConfig.model_fields)


def resulting_config(agent: Agent, changes: dict[str, Any]) -> AgentConfig:
    """The run settings an update would leave, so a partial change is judged as a whole."""
    current = {name: getattr(agent, name) for name in CONFIG_FIELDS}
    merged = current | {k: v for k, v in changes.items() if k in CONFIG_FIELDS}
    return AgentConfig(**merged | {"tools": tuple(merged["tools"])})


def guardrails_for(runs: RunManager, raw: list[dict[str, Any]], *, provider: str) -> list[Any]:
    """The agent's checks validated for its provider, as they will be stored (422 if not)."""
    return checked_guardrails(
        raw, registry=default_registry(), providers=runs.providers, agent_provider=provider
    )


@router.get("", response_model=Page[AgentRead])
async def list_agents(
    access: Annotated[Access, require("agents:read")],
    session: SessionDep,
    page: PaginationDep,
    q: Annotated[
        SafeText | None, Query(max_length=100, description="Name or description contains")
    ] = None,
    provider: Annotated[SafeText | None, Query(max_length=50, description="Exact provider")] = None,
    is_active: Annotated[bool | None, Query(description="Enabled or disabled only")] = None,
) -> Page[AgentRead]:
    """The organisation's agents, newest first."""
    agents, total = await agent_crud.get_page(
        session,
        organization_id=access.organization_id,
        skip=page.skip,
        limit=page.limit,
        q=q,
        provider=provider,
        is_active=is_active,
    )
    return Page[AgentRead].of(agents, total, page)


@router.post("", response_model=AgentRead, status_code=status.HTTP_201_CREATED)
async def create_agent(
    access: Annotated[Access, require("agents:write")],
    payload: AgentCreate,
    session: SessionDep,
    runs: RunManagerDep,
    settings: SettingsDep,
    audit: AuditDep,
) -> Agent:
    """Create an agent at version 1; a missing provider or model gets the configured default."""
    provider = payload.provider or settings.default_provider
    runs.check_config(provider=provider, tools=payload.tools)
    await _check_name_is_free(session, organization_id=access.organization_id, name=payload.name)
    bases = await knowledge.get_bases(
        session, organization_id=access.organization_id, base_ids=payload.knowledge_base_ids
    )
    resolved = payload.with_defaults(provider=provider, model=runs.providers.default_model)
    checked = guardrails_for(runs, payload.guardrails, provider=provider)
    resolved = resolved.model_copy(update={"guardrails": checked})
    agent = await agent_crud.create(
        session,
        organization_id=access.organization_id,
        owner_id=access.user_id,
        data=resolved,
        knowledge_bases=bases,
    )
    await audit.record(
        session,
        "agent.created",
        organization_id=access.organization_id,
        actor_id=access.user_id,
        target_type="agent",
        target_id=agent.id,
        details={"name": agent.name},
    )
    return agent


@router.get("/{agent_id}", response_model=AgentRead)
async def read_agent(_access: Annotated[Access, require("agents:read")], agent: AgentDep) -> Agent:
    """One of the organisation's agents."""
    return agent


@router.patch("/{agent_id}", response_model=AgentRead)
async def update_agent(
    access: Annotated[Access, require("agents:write")],
    payload: AgentUpdate,
    agent: AgentDep,
    session: SessionDep,
    runs: RunManagerDep,
    audit: AuditDep,
) -> Agent:
    """Change the fields sent; a change to how the agent behaves bumps its version."""
    changes = payload.changes()
    base_ids = changes.pop("knowledge_base_ids", None)
    bases = (
        None
        if base_ids is None
        else await knowledge.get_bases(
            session, organization_id=agent.organization_id, base_ids=base_ids
        )
    )
    if CONFIG_FIELDS & changes.keys():
        config = resulting_config(agent, changes)
        runs.check_config(provider=config.provider, tools=config.tools)
    if "guardrails" in changes or "provider" in changes:
        provider = changes.get("provider", agent.provider)
        raw = changes.get("guardrails", agent.guardrails)
        checked = guardrails_for(runs, raw, provider=provider)
        if "guardrails" in changes:
            changes["guardrails"] = checked
    if "name" in changes and changes["name"] != agent.name:
        await _check_name_is_free(
            session, organization_id=agent.organization_id, name=changes["name"]
        )
    fields = sorted({*changes, *(() if base_ids is None else ("knowledge_base_ids",))})
    agent = await agent_crud.update(session, agent=agent, changes=changes, knowledge_bases=bases)
    await audit.record(
        session,
        "agent.updated",
        organization_id=access.organization_id,
        actor_id=access.user_id,
        target_type="agent",
        target_id=agent.id,
        details={"fields": fields, "version": agent.version},
    )
    return agent


@router.delete("/{agent_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_agent(
    access: Annotated[Access, require("agents:write")],
    agent: AgentDep,
    session: SessionDep,
    audit: AuditDep,
) -> None:
    """Delete the agent with its conversations, messages and executions."""
    await agent_crud.delete(session, agent=agent)
    await audit.record(
        session,
        "agent.deleted",
        organization_id=access.organization_id,
        actor_id=access.user_id,
        target_type="agent",
        target_id=agent.id,
        details={"name": agent.name},
    )


async def _check_name_is_free(
    session: AsyncSession, *, organization_id: uuid.UUID, name: str
) -> None:
    """A clear 409 for a taken name; the unique constraint still catches a race."""
    if await agent_crud.get_by_name(session, organization_id=organization_id, name=name):
        raise ConflictError(f"This organization already has an agent named '{name}'")
