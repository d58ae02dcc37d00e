"""The current user's agents."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import CurrentUser, PaginationDep, RunManagerDep, SessionDep, SettingsDep
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


@router.get("", response_model=Page[AgentRead])
async def list_agents(
    user: CurrentUser,
    session: SessionDep,
    page: PaginationDep,
    q: Annotated[
        SafeText | None, Query(max_length=100, description="Name or description contains")
    ] = None,
    provider: Annotated[SafeText | None, Query(max_length=50, description="Exact provider")] = None,
    is_active: Annotated[bool | None, Query(description="Enabled or disabled only")] = None,
) -> Page[AgentRead]:
    """Your agents, newest first."""
    agents, total = await agent_crud.get_page(
        session,
        owner_id=user.id,
        skip=page.skip,
        limit=page.limit,
        q=q,
        provider=provider,
        is_active=is_active,
    )
    return Page[AgentRead].of(agents, total, page)


@router.post("", response_model=AgentRead, status_code=status.HTTP_201_CREATED)
async def create_agent(
    payload: AgentCreate,
    user: CurrentUser,
    session: SessionDep,
    runs: RunManagerDep,
    settings: SettingsDep,
) -> Agent:
    """Create an agent at version 1; a missing provider or model gets the configured default."""
    provider = payload.provider or settings.default_provider
    runs.check_config(provider=provider, tools=payload.tools)
    await _check_name_is_free(session, owner_id=user.id, name=payload.name)
    resolved = payload.with_defaults(provider=provider, model=runs.providers.default_model)
    return await agent_crud.create(session, owner_id=user.id, data=resolved)


@router.get("/{agent_id}", response_model=AgentRead)
async def read_agent(agent: AgentDep) -> Agent:
    """One of your agents."""
    return agent


@router.patch("/{agent_id}", response_model=AgentRead)
async def update_agent(
    payload: AgentUpdate, agent: AgentDep, session: SessionDep, runs: RunManagerDep
) -> Agent:
    """Change the fields sent; a change to how the agent behaves bumps its version."""
    changes = payload.changes()
    if CONFIG_FIELDS & changes.keys():
        config = resulting_config(agent, changes)
        runs.check_config(provider=config.provider, tools=config.tools)
    if "name" in changes and changes["name"] != agent.name:
        await _check_name_is_free(session, owner_id=agent.owner_id, name=changes["name"])
    return await agent_crud.update(session, agent=agent, changes=changes)


@router.delete("/{agent_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_agent(agent: AgentDep, session: SessionDep) -> None:
    """Delete the agent with its conversations, messages and executions."""
    await agent_crud.delete(session, agent=agent)


async def _check_name_is_free(session: AsyncSession, *, owner_id: uuid.UUID, name: str) -> None:
    """A clear 409 for a taken name; the unique constraint still catches a race."""
    if await agent_crud.get_by_name(session, owner_id=owner_id, name=name) is not None:
        raise ConflictError(f"You already have an agent named '{name}'")
