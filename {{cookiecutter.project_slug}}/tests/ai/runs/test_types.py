"""A run the durable engine recorded before an upgrade still resumes after it."""

from __future__ import annotations

import pickle
import uuid
from dataclasses import astuple
from typing import Any

from fastapi import FastAPI

from app.ai.runs import persistence
from app.ai.runs.types import UNRECORDED_ORGANIZATION, AgentSpec, PreparedRun
from app.db.session import Database
from tests.support.builders import Builder
from tests.support.run_manager import manager_with, new_agent


def _unpickled(cls: type[Any], state: list[Any]) -> Any:
    """What unpickling does with an instance: a bare object, then its recorded state."""
    instance = object.__new__(cls)
    instance.__setstate__(state)
    return instance


class _Recorded:
    """Pickles as `cls` with `state`: what an older version of the class left in the engine."""

    def __init__(self, cls: type[Any], state: list[Any]) -> None:
        self.cls = cls
        self.state = state

    def __reduce__(self) -> tuple[Any, ...]:
        return _unpickled, (self.cls, self.state)


def _agent_before_guardrails() -> _Recorded:
    """An agent as recorded before agents had guardrails: eight fields."""
    spec = AgentSpec(
        id=uuid.uuid4(),
        name="helper",
        system_prompt="Be brief.",
        provider="scripted",
        model="scripted",
        temperature=0.2,
        max_tokens=256,
        tools=("calculator",),
    )
    return _Recorded(AgentSpec, list(astuple(spec))[:8])


def test_a_run_recorded_before_runs_had_an_organisation_unpickles_with_the_defaults() -> None:
    execution_id, conversation_id, user_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    recorded = _Recorded(
        PreparedRun, [execution_id, conversation_id, user_id, _agent_before_guardrails(), None]
    )

    run = pickle.loads(pickle.dumps(recorded))  # noqa: S301 - bytes made just above

    assert isinstance(run, PreparedRun)
    assert (run.execution_id, run.conversation_id, run.user_id) == (
        execution_id,
        conversation_id,
        user_id,
    )
    assert run.history is None
    assert run.organization_id == UNRECORDED_ORGANIZATION
    assert run.agent.tools == ("calculator",)
    assert run.agent.guardrails == ()
    # Its first step, if it ran one, was the recorded start: a resume must find it there.
    assert run.records_start is True


def test_a_run_of_this_version_round_trips_unchanged() -> None:
    spec = AgentSpec(
        id=uuid.uuid4(),
        name="helper",
        system_prompt="",
        provider="scripted",
        model="scripted",
        temperature=0.0,
        max_tokens=64,
        tools=(),
        guardrails=({"type": "max_length", "max_characters": 10},),
    )
    run = PreparedRun(
        execution_id=uuid.uuid4(),
        conversation_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        agent=spec,
        organization_id=uuid.uuid4(),
    )

    assert pickle.loads(pickle.dumps(run)) == run  # noqa: S301 - bytes made just above


async def test_a_resumed_run_without_its_organisation_finds_it_on_its_execution(
    app: FastAPI, build: Builder, database: Database
) -> None:
    runs = manager_with(app, [])
    agent = await new_agent(build, database, "scripted")
    prepared = await runs.prepare(user_id=agent.owner_id, agent=agent, message="go")
    recorded = PreparedRun(
        execution_id=prepared.execution_id,
        conversation_id=prepared.conversation_id,
        user_id=prepared.user_id,
        agent=prepared.agent,
    )

    found = await persistence.with_recorded_organization(database, recorded)

    assert recorded.organization_id == UNRECORDED_ORGANIZATION
    assert found.organization_id == agent.organization_id
    assert found.execution_id == prepared.execution_id
