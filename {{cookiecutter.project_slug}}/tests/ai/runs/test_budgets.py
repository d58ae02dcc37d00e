"""Budgets in the run loop: checked before every model call, never overspent under a race."""

from __future__ import annotations

import asyncio
import uuid

from fastapi import FastAPI

from app.ai.budgets import BudgetLedger, Metric, Period, ScopeLimits
from app.ai.providers.base import (
    Completion,
    CompletionRequest,
    FinishReason,
    ToolCall,
    Usage,
)
from app.ai.providers.registry import ProviderEntry
from app.ai.providers.scripted import ScriptedProvider
from app.ai.runs import RunManager
from app.core.scopes import BudgetScope, ScopeKind
from app.crud import budget as budget_crud
from app.db.session import Database
from app.models import Agent, ExecutionStatus, MessageRole
from tests.support.builders import Builder, add_user
from tests.support.run_manager import manager_on, stored_messages

MAX_TOKENS = 100


def _reply(usage: Usage, *, calls_tool: bool = False) -> Completion:
    return Completion(
        content="" if calls_tool else "done",
        model="counting",
        usage=usage,
        finish_reason=FinishReason.TOOL_CALLS if calls_tool else FinishReason.STOP,
        tool_calls=(
            (ToolCall(id=uuid.uuid4().hex, name="calculator", arguments={"expression": "2+2"}),)
            if calls_tool
            else ()
        ),
    )


class InterleavingProvider(ScriptedProvider):
    """A scripted provider that lets other runs go on while each call is in flight."""

    async def complete(self, request: CompletionRequest) -> Completion:
        for _ in range(5):
            await asyncio.sleep(0)
        return await super().complete(request)


def _manager(app: FastAPI, provider: ScriptedProvider) -> RunManager:
    return manager_on(app, [ProviderEntry("counting", lambda _settings: provider)])


async def _agent(build: Builder, database: Database) -> Agent:
    async with database.transaction() as session:
        owner = await add_user(session)
    return await build.agent(
        owner_id=owner.id,
        provider="counting",
        model="gpt-4o-mini",
        max_tokens=MAX_TOKENS,
        tools=["calculator"],
    )


async def _budget(database: Database, user_id: uuid.UUID, **limits: object) -> None:
    async with database.transaction() as session:
        scope = BudgetScope(ScopeKind.USER, user_id)
        await budget_crud.put(session, scope=scope, limits=limits)


async def test_a_run_over_budget_never_calls_the_provider(
    app: FastAPI, build: Builder, database: Database
) -> None:
    provider = ScriptedProvider(script=[_reply(Usage(10, 5))])
    runs = _manager(app, provider)
    agent = await _agent(build, database)
    await _budget(database, agent.owner_id, daily_tokens=MAX_TOKENS // 2)
    prepared = await runs.prepare(user_id=agent.owner_id, agent=agent, message="hello")

    execution = await runs.run(prepared)

    assert provider.requests == []
    assert execution.status is ExecutionStatus.FAILED
    assert execution.error_type == "budget_exceeded"
    assert execution.error_message is not None
    assert "tokens per day" in execution.error_message
    roles = [m.role for m in await stored_messages(database, execution)]
    assert roles == [MessageRole.USER]


async def test_a_run_whose_next_call_would_pass_the_budget_stops_and_keeps_its_messages(
    app: FastAPI, build: Builder, database: Database
) -> None:
    provider = ScriptedProvider(
        script=[_reply(Usage(100, 100), calls_tool=True), _reply(Usage(10, 5))]
    )
    runs = _manager(app, provider)
    agent = await _agent(build, database)
    await _budget(database, agent.owner_id, daily_tokens=300)
    prepared = await runs.prepare(user_id=agent.owner_id, agent=agent, message="add up")

    execution = await runs.run(prepared)

    assert len(provider.requests) == 1
    assert execution.status is ExecutionStatus.FAILED
    assert execution.error_type == "budget_exceeded"
    assert (execution.input_tokens, execution.output_tokens) == (100, 100)
    roles = [m.role for m in await stored_messages(database, execution)]
    assert roles == [MessageRole.USER, MessageRole.ASSISTANT, MessageRole.TOOL]
    ledger: BudgetLedger = runs.ledger
    limits = ScopeLimits.defaults(BudgetScope(ScopeKind.USER, agent.owner_id), app.state.settings)
    assert (await ledger.used(limits))[(Metric.TOKENS, Period.DAY)] == 200


async def test_a_failed_call_gives_its_reservation_back(
    app: FastAPI, build: Builder, database: Database
) -> None:
    provider = ScriptedProvider(script=[])
    runs = _manager(app, provider)
    agent = await _agent(build, database)
    await _budget(database, agent.owner_id, daily_tokens=1_000)
    prepared = await runs.prepare(user_id=agent.owner_id, agent=agent, message="hello")

    execution = await runs.run(prepared)

    assert execution.error_type is not None
    assert execution.error_type.startswith("provider.")
    limits = ScopeLimits.defaults(BudgetScope(ScopeKind.USER, agent.owner_id), app.state.settings)
    assert (await runs.ledger.used(limits))[(Metric.TOKENS, Period.DAY)] == 0


async def test_concurrent_runs_overspend_by_at_most_one_calls_maximum(
    app: FastAPI, build: Builder, database: Database
) -> None:
    runs_count, limit = 8, 350
    provider = InterleavingProvider(script=[_reply(Usage(20, 80)) for _ in range(runs_count)])
    runs = _manager(app, provider)
    agent = await _agent(build, database)
    await _budget(database, agent.owner_id, daily_tokens=limit, daily_cost="0.000200")
    prepared = [
        await runs.prepare(user_id=agent.owner_id, agent=agent, message=f"run {n}")
        for n in range(runs_count)
    ]

    executions = await asyncio.gather(*(runs.run(p) for p in prepared))

    completed = [e for e in executions if e.status is ExecutionStatus.COMPLETED]
    refused = [e for e in executions if e.error_type == "budget_exceeded"]
    assert len(completed) + len(refused) == runs_count
    assert completed
    assert refused
    assert len(provider.requests) == len(completed)
    spent = sum(e.input_tokens + e.output_tokens for e in executions)
    one_call = MAX_TOKENS + 50  # the reply's maximum plus a generous prompt estimate
    assert spent <= limit + one_call
    cost = sum(e.cost for e in executions)
    limits = ScopeLimits.defaults(BudgetScope(ScopeKind.USER, agent.owner_id), app.state.settings)
    used = await runs.ledger.used(limits)
    assert used[(Metric.TOKENS, Period.DAY)] == spent
    assert used[(Metric.COST, Period.DAY)] == cost
