"""The run manager's own cost per agent turn, measured in-process against the scripted provider.

Run by `make bench` as a child process with the server's environment:

    python -m scripts.bench.turns --runs 400 --result turns.json

Each sample is a scripted provider call on its own, then a whole one-turn run (prepare
and run: messages, the execution row, events) right after it, so the pair shares any
drift. It records, per run: wall time, the CPU time of the event-loop thread (the
Python work of the engine, SQLAlchemy and the driver, without the waits for the
database), SQL statements (a `before_cursor_execute` listener on the engine) and
connection checkouts from the pool. Then the same for runs with one tool call, which
take two model turns.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event

from app.ai.providers.base import ChatMessage, CompletionRequest, Role
from app.ai.providers.scripted import ScriptedProvider
from app.ai.runs import RunManager
from app.core.config import Settings
from app.crud import agent as agent_crud
from app.crud import organization as organization_crud
from app.crud import user as user_crud
from app.main import create_app
from app.models import Agent
from app.schemas.agent import AgentCreate

WARMUP = 10
TOOL_MESSAGE = '!tool calculator {"expression": "6*7"}'


class Counter:
    """SQL statements and pool checkouts seen on one engine."""

    def __init__(self) -> None:
        self.statements = 0
        self.checkouts = 0

    def statement(self, *_: Any) -> None:
        """A `before_cursor_execute` event."""
        self.statements += 1

    def checkout(self, *_: Any) -> None:
        """A pool `checkout` event."""
        self.checkouts += 1


async def timed(work: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    """Wall time and this thread's CPU time of one awaited call, both in ms."""
    wall, cpu = time.perf_counter(), time.thread_time()
    await work()
    return (time.perf_counter() - wall) * 1000, (time.thread_time() - cpu) * 1000


async def measure(settings: Settings, runs: int) -> dict[str, list[float]]:
    """Every sample, by name; the first WARMUP of each kind are dropped."""
    app = create_app(settings)
    samples: dict[str, list[float]] = {}

    def keep(name: str, index: int, value: float) -> None:
        if index >= WARMUP:
            samples.setdefault(name, []).append(value)

    async with app.router.lifespan_context(app):
        manager: RunManager = app.state.runs
        agent = await scripted_agent(app.state.database)
        counter = Counter()
        engine = app.state.database.engine.sync_engine
        event.listen(engine, "before_cursor_execute", counter.statement)
        event.listen(engine, "checkout", counter.checkout)
        provider = ScriptedProvider()
        request = CompletionRequest(
            model="scripted", messages=(ChatMessage(role=Role.USER, content="hello"),)
        )

        async def one_run(message: str) -> None:
            prepared = await manager.prepare(user_id=agent.owner_id, agent=agent, message=message)
            await manager.launch(prepared)

        for index in range(WARMUP + runs):
            wall, cpu = await timed(lambda: provider.complete(request))
            keep("provider_ms", index, wall)
            keep("provider_cpu_ms", index, cpu)
            statements, checkouts = counter.statements, counter.checkouts
            wall, cpu = await timed(lambda: one_run("hello"))
            keep("turn_ms", index, wall)
            keep("turn_cpu_ms", index, cpu)
            keep("statements", index, counter.statements - statements)
            keep("checkouts", index, counter.checkouts - checkouts)
        for index in range(WARMUP + runs):
            statements = counter.statements
            wall, _ = await timed(lambda: one_run(TOOL_MESSAGE))
            keep("tool_turn_ms", index, wall / 2)
            keep("tool_statements", index, (counter.statements - statements) / 2)
    return samples


async def scripted_agent(database: Any) -> Agent:
    """A throwaway owner and their scripted agent with the calculator tool."""
    async with database.transaction() as session:
        user = await user_crud.create(
            session,
            email=f"turns-{uuid.uuid4().hex[:12]}@example.com",
            hashed_password="!",  # noqa: S106 - this account never signs in
        )
        workspace = await organization_crud.get_personal_id(session, user_id=user.id)
        assert workspace is not None  # made with the account
        agent: Agent = await agent_crud.create(
            session,
            organization_id=workspace,
            owner_id=user.id,
            data=AgentCreate(
                name=f"turns-{uuid.uuid4().hex[:8]}",
                provider="scripted",
                model="scripted",
                tools=["calculator"],
            ),
        )
    return agent


def main() -> None:
    """Measure with the settings in the environment and write the samples as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--result", type=Path, required=True)
    options = parser.parse_args()
    samples = asyncio.run(measure(Settings(), options.runs))
    options.result.write_text(json.dumps(samples))


if __name__ == "__main__":
    main()
