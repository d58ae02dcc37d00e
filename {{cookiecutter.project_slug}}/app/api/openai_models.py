"""`GET /v1/models`: an OpenAI client lists the active organisation's agents by name."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from app.api.access import Access, require
from app.api.deps import SessionDep
from app.core.errors import NotFoundError
from app.core.openai_errors import OPENAI_PATH_PREFIX
from app.crud import agent as agent_crud
from app.models import Agent
from app.schemas.openai_models import ModelCard, ModelList

router = APIRouter(prefix=f"{OPENAI_PATH_PREFIX}/models", tags=["openai-compatible"])


@router.get("", response_model=ModelList)
async def list_models(
    access: Annotated[Access, require("agents:read")], session: SessionDep
) -> ModelList:
    """The organisation's active agents, by name, as OpenAI's model list."""
    agents = await agent_crud.list_active(session, organization_id=access.organization_id)
    return ModelList(data=[_card(agent) for agent in agents])


@router.get("/{model}", response_model=ModelCard)
async def read_model(
    access: Annotated[Access, require("agents:read")], model: str, session: SessionDep
) -> ModelCard:
    """One of the organisation's agents, by name or id, as an OpenAI model object."""
    agent = await agent_crud.get_by_id_or_name(
        session, organization_id=access.organization_id, key=model
    )
    if agent is None or not agent.is_active:
        raise NotFoundError(f"No agent with id or name '{model}'")
    return _card(agent)


def _card(agent: Agent) -> ModelCard:
    return ModelCard(
        id=agent.name,
        created=int(agent.created_at.timestamp()),
        owned_by=agent.provider,
        agent_id=agent.id,
        description=agent.description,
    )
