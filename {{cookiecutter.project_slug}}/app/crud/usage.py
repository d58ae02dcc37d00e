"""Usage from the executions table: runs, tokens and cost grouped by day, agent and model."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Agent, AgentVersion, Execution


@dataclass(frozen=True, slots=True)
class UsageLine:
    """One day's runs of one agent on one model, summed."""

    day: dt.date
    agent_id: uuid.UUID
    agent_name: str
    model: str
    runs: int
    input_tokens: int
    output_tokens: int
    cost: Decimal


def _utc_day(session: AsyncSession) -> ColumnElement[str]:
    """The execution's UTC date as text, in each database's own way."""
    if session.get_bind().dialect.name == "sqlite":
        return func.date(Execution.created_at)
    return func.to_char(func.timezone("UTC", Execution.created_at), "YYYY-MM-DD")


def _whose(owner_id: uuid.UUID | None, organization_id: uuid.UUID | None) -> ColumnElement[bool]:
    """The filter on whose runs are summed: exactly one of the two ids must be given."""
    if (owner_id is None) == (organization_id is None):
        raise ValueError("give either owner_id or organization_id")
    if owner_id is not None:
        return Execution.owner_id == owner_id
    return Execution.organization_id == organization_id


async def by_day_agent_model(
    session: AsyncSession,
    *,
    start: dt.date,
    end: dt.date,
    owner_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
) -> list[UsageLine]:
    """Runs created from `start` to `end` (UTC days, inclusive), summed per group.

    The runs a user started (`owner_id`, in every organisation, as their own budget counts
    them) or the runs in an organisation (`organization_id`, whoever started them).

    A run counts under the model of the agent version it ran, or the agent's current
    model for runs recorded before versions existed.
    """
    day = _utc_day(session).label("day")
    model = func.coalesce(AgentVersion.settings["model"].as_string(), Agent.model).label("model")
    since = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    statement = (
        select(
            day,
            Execution.agent_id,
            Agent.name,
            model,
            func.count(),
            func.coalesce(func.sum(Execution.input_tokens), 0),
            func.coalesce(func.sum(Execution.output_tokens), 0),
            func.coalesce(func.sum(Execution.cost), 0),
        )
        .join(Agent, Agent.id == Execution.agent_id)
        .outerjoin(
            AgentVersion,
            and_(
                AgentVersion.agent_id == Execution.agent_id,
                AgentVersion.version == Execution.agent_version,
            ),
        )
        .where(
            _whose(owner_id, organization_id),
            Execution.created_at >= since,
            Execution.created_at < until,
        )
        .group_by(day, Execution.agent_id, Agent.name, model)
        .order_by(day, Agent.name, model)
    )
    rows = (await session.execute(statement)).all()
    return [
        UsageLine(
            day=dt.date.fromisoformat(str(row[0])),
            agent_id=row[1],
            agent_name=row[2],
            model=row[3],
            runs=int(row[4]),
            input_tokens=int(row[5]),
            output_tokens=int(row[6]),
            cost=Decimal(str(row[7])),
        )
        for row in rows
    ]
