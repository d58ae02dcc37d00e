"""The example workflows `make seed` adds for the demo user, with the agents they run.

They go to the user's personal workspace, as anything a single user makes does.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.workflows.examples import EXAMPLES
from app.crud import organization as organization_crud
from app.models import Agent, Workflow


async def seed_workflows(
    session: AsyncSession, *, owner_id: uuid.UUID, provider: str, model: str
) -> list[str]:
    """Add each example workflow the user lacks, reusing agents of the same name; the new ones."""
    organization_id = await organization_crud.get_personal_id(session, user_id=owner_id)
    if organization_id is None:
        raise LookupError("the user has no personal workspace to add workflows to")
    agents = {
        agent.name: agent.id
        for agent in await session.scalars(select(Agent).where(Agent.owner_id == owner_id))
    }
    workflows = set(
        await session.scalars(
            select(Workflow.name).where(Workflow.organization_id == organization_id)
        )
    )
    workspace = await organization_crud.get_personal_id(session, user_id=owner_id)
    created: list[str] = []
    for example in EXAMPLES:
        if example.name in workflows:
            continue
        ids: dict[str, uuid.UUID] = {}
        for spec in example.agents:
            if spec.name not in agents:
                agent = Agent(
                    organization_id=workspace,
                    owner_id=owner_id,
                    name=spec.name,
                    description=f"Part of the '{example.name}' example workflow.",
                    system_prompt=spec.system_prompt,
                    provider=provider,
                    model=model,
                    tools=[],
                    version=1,
                )
                session.add(agent)
                await session.flush()
                agents[spec.name] = agent.id
            ids[spec.key] = agents[spec.name]
        session.add(
            Workflow(
                organization_id=organization_id,
                owner_id=owner_id,
                name=example.name,
                description=example.description,
                version=1,
                steps=example.steps(ids),
            )
        )
        created.append(example.name)
    return created
