"""The agent template catalog, and creating an agent from a template."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from app.ai.agent_templates import NAME_PATTERN, AgentTemplateCatalog
from app.api.access import Access, require
from app.api.audit import AuditDep
from app.api.deps import CurrentUser, RunManagerDep, SessionDep, SettingsDep
from app.api.v1.endpoints.agents import create_agent
from app.core.errors import NotFoundError
from app.models import Agent
from app.schemas.agent import AgentCreate, AgentRead, AgentUpdate
from app.schemas.agent_template import AgentTemplateRead

router = APIRouter(tags=["agent-templates"])

TemplateName = Annotated[
    str, Path(pattern=NAME_PATTERN, description="The template's file name without .toml")
]


def get_catalog(settings: SettingsDep) -> AgentTemplateCatalog:
    """The catalog over the configured folder, read afresh on each request."""
    return AgentTemplateCatalog(settings.agent_templates_dir)


CatalogDep = Annotated[AgentTemplateCatalog, Depends(get_catalog)]


@router.get("/agent-templates", response_model=list[AgentTemplateRead])
async def list_templates(_user: CurrentUser, catalog: CatalogDep) -> list[AgentTemplateRead]:
    """Every ready-made agent you can start from, by name."""
    return catalog.all()


@router.post(
    "/agents/from-template/{name}", response_model=AgentRead, status_code=status.HTTP_201_CREATED
)
async def create_from_template(
    access: Annotated[Access, require("agents:write")],
    name: TemplateName,
    session: SessionDep,
    runs: RunManagerDep,
    settings: SettingsDep,
    catalog: CatalogDep,
    audit: AuditDep,
    overrides: Annotated[AgentUpdate | None, Body()] = None,
) -> Agent:
    """Create an agent from a template; fields sent in the body replace the template's.

    The agent is named after the template unless `name` is sent, and is checked as any
    new agent is: a tool or provider this service does not offer is a 422.
    """
    template = catalog.get(name)
    if template is None:
        raise NotFoundError(f"Agent template '{name}' not found")
    values = template.model_dump() | (overrides.changes() if overrides else {})
    try:
        payload = AgentCreate.model_validate(values)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_context=False)) from None
    return await create_agent(access, payload, session, runs, settings, audit)
