"""The agent loop: the one place where providers, tools and persistence meet.

A run loads the conversation (trimmed to a token budget), calls the agent's model
with the agent's tools, runs any requested tools concurrently, feeds the results
back, and repeats until the model answers or the iteration bound is hit. Every
message is committed as soon as it exists, so a failure or a cancel loses nothing
that already happened; the Execution row always ends in a final state.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import structlog

from app.ai import cancellation, events
from app.ai.events import EventSink, RunEvent
from app.ai.history import fit_to_budget, to_chat_message
from app.ai.providers.base import (
    ChatMessage,
    Completion,
    CompletionRequest,
    Provider,
    ProviderError,
    ProviderErrorKind,
    Role,
    StreamCompleted,
    TextDelta,
    ToolCall,
    Usage,
)
from app.ai.providers.factory import ProviderFactory
from app.ai.providers.pricing import cost_of
from app.ai.tools.base import ToolContext
from app.ai.tools.manager import ToolManager, ToolResult
from app.ai.tools.registry import ToolRegistry
from app.core.config import Settings
from app.core.errors import UnprocessableError
from app.core.store import KeyValueStore
from app.crud import conversation as conversation_crud
from app.crud import execution as execution_crud
from app.crud import message as message_crud
from app.db.session import Database
from app.db.types import utc_now
from app.models import Agent, Execution, ExecutionStatus, MessageRole

logger = structlog.get_logger(__name__)

HISTORY_MESSAGE_LIMIT = 200
TITLE_LENGTH = 60


class MaxIterationsError(Exception):
    """The model kept asking for tools past the configured bound."""


@dataclass(frozen=True, slots=True)
class AgentSpec:
    """The parts of an agent a run needs, copied so the run outlives the request's session."""

    id: uuid.UUID
    system_prompt: str
    provider: str
    model: str
    temperature: float
    max_tokens: int
    tools: tuple[str, ...]

    @classmethod
    def of(cls, agent: Agent) -> AgentSpec:
        return cls(
            id=agent.id,
            system_prompt=agent.system_prompt,
            provider=agent.provider,
            model=agent.model,
            temperature=agent.temperature,
            max_tokens=agent.max_tokens,
            tools=tuple(agent.tools or ()),
        )


@dataclass(frozen=True, slots=True)
class PreparedRun:
    execution_id: uuid.UUID
    conversation_id: uuid.UUID
    user_id: uuid.UUID
    agent: AgentSpec


@dataclass(slots=True)
class _Tally:
    """Usage and cost so far, kept even when the run fails half-way."""

    usage: Usage = field(default_factory=Usage)
    cost: Decimal = Decimal("0")

    def add(self, model: str, usage: Usage) -> None:
        self.usage = self.usage + usage
        self.cost += cost_of(model, usage)


class ExecutionEngine:
    """Prepares, runs and cancels executions; one instance per application."""

    def __init__(
        self,
        *,
        settings: Settings,
        database: Database,
        store: KeyValueStore,
        providers: ProviderFactory,
        tools: ToolRegistry,
        tool_manager: ToolManager,
    ) -> None:
        self.settings = settings
        self.database = database
        self.store = store
        self.providers = providers
        self.tools = tools
        self.tool_manager = tool_manager
        self._tasks: dict[uuid.UUID, asyncio.Task[Execution]] = {}

    def check_config(self, *, provider: str, tools: Iterable[str]) -> None:
        """Refuse a provider that is unknown or unconfigured, or a tool that does not exist."""
        self.providers.get(provider)
        unknown = sorted(set(tools) - set(self.tools.names()))
        if unknown:
            raise UnprocessableError(f"Unknown tools: {', '.join(unknown)}")

    def check_runnable(self, agent: Agent) -> None:
        """Refuse, before anything is stored, an agent that could not run."""
        if not agent.is_active:
            raise UnprocessableError("This agent is disabled")
        self.check_config(provider=agent.provider, tools=agent.tools or ())

    async def prepare(
        self,
        *,
        user_id: uuid.UUID,
        agent: Agent,
        message: str,
        conversation_id: uuid.UUID | None = None,
        prior_messages: Sequence[ChatMessage] = (),
    ) -> PreparedRun:
        """Store the user's message and a pending execution, committed before the run starts."""
        self.check_runnable(agent)
        async with self.database.transaction() as session:
            if conversation_id is None:
                conversation = await conversation_crud.create(
                    session,
                    owner_id=user_id,
                    agent_id=agent.id,
                    title=message.strip()[:TITLE_LENGTH] or "New conversation",
                )
                conversation_id = conversation.id
            for prior in prior_messages:
                await message_crud.append(
                    session,
                    conversation_id=conversation_id,
                    role=MessageRole(prior.role.value),
                    content=prior.content,
                )
            execution = await execution_crud.create(
                session,
                owner_id=user_id,
                agent_id=agent.id,
                conversation_id=conversation_id,
                input=message,
            )
            await message_crud.append(
                session,
                conversation_id=conversation_id,
                role=MessageRole.USER,
                content=message,
                execution_id=execution.id,
            )
            # Leased before it is visible, so another process's start-up sweep spares it.
            await cancellation.renew_lease(self.store, execution.id)
        return PreparedRun(
            execution_id=execution.id,
            conversation_id=conversation_id,
            user_id=user_id,
            agent=AgentSpec.of(agent),
        )

    def launch(
        self, prepared: PreparedRun, *, sink: EventSink = events.discard, stream: bool = False
    ) -> asyncio.Task[Execution]:
        """Start the run as its own task, so it survives a client that disconnects."""
        task = asyncio.create_task(self.run(prepared, sink=sink, stream=stream))
        self._tasks[prepared.execution_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(prepared.execution_id, None))
        return task

    async def cancel(
        self, execution_id: uuid.UUID, *, owner_id: uuid.UUID, wait_seconds: float = 5.0
    ) -> Execution:
        """Stop a run wherever it is: here at once, elsewhere through the shared flag.

        A run in this process is awaited (briefly) so the answer shows it cancelled.
        """
        task = self._tasks.get(execution_id)
        await cancellation.request_cancel(self.store, execution_id)
        if task is not None:
            task.cancel()
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(task), wait_seconds)
            if task.cancelled():
                await self._record_never_started(execution_id, owner_id)
        async with self.database.transaction() as session:
            execution = await execution_crud.get(
                session, execution_id=execution_id, owner_id=owner_id
            )
        assert execution is not None
        return execution

    async def shutdown(self) -> None:
        """Cancel this process's runs and wait until each has recorded its outcome."""
        running = list(self._tasks.items())
        for _, task in running:
            task.cancel()
        await asyncio.gather(*(task for _, task in running), return_exceptions=True)
        for execution_id, task in running:
            if task.cancelled():
                await self._record_never_started(execution_id, None)

    async def _record_never_started(
        self, execution_id: uuid.UUID, owner_id: uuid.UUID | None
    ) -> None:
        """A task cancelled before its first step never ran `run`; record the outcome for it."""
        async with self.database.transaction() as session:
            execution = await execution_crud.get_any(session, execution_id=execution_id)
            if execution is None or execution.status.is_final:
                return
            if owner_id is not None and execution.owner_id != owner_id:
                return
            await execution_crud.update(
                session,
                execution=execution,
                changes=_failure(
                    ExecutionStatus.CANCELLED, "cancelled", "Cancelled before it started"
                )
                | {"finished_at": utc_now()},
            )

    async def sweep_orphans(self) -> int:
        """Fail executions left running by a process that died (their lease has lapsed)."""
        async with self.database.transaction() as session:
            candidates = await execution_crud.list_unfinished(session)
            orphans = [
                e for e in candidates if not await cancellation.has_live_lease(self.store, e.id)
            ]
            for execution in orphans:
                await execution_crud.update(
                    session,
                    execution=execution,
                    changes={
                        "status": ExecutionStatus.FAILED,
                        "error_type": "interrupted",
                        "error_message": "The process running this execution stopped",
                        "finished_at": utc_now(),
                    },
                )
        if orphans:
            logger.warning("executions_swept", count=len(orphans))
        return len(orphans)

    async def run(
        self, prepared: PreparedRun, *, sink: EventSink = events.discard, stream: bool = False
    ) -> Execution:
        """Run to the end and return the execution in its final state."""
        started = time.perf_counter()
        tally = _Tally()
        sink = self._broadcasting(prepared.execution_id, sink)
        outcome: dict[str, Any]
        try:
            await self._update(prepared, status=ExecutionStatus.RUNNING, started_at=utc_now())
            await sink(
                RunEvent(
                    events.EXECUTION_STARTED,
                    {
                        "execution_id": str(prepared.execution_id),
                        "conversation_id": str(prepared.conversation_id),
                    },
                )
            )
            async with cancellation.watched(self.store, prepared.execution_id):
                output = await self._loop(prepared, sink, tally, stream=stream)
            outcome = {"status": ExecutionStatus.COMPLETED, "output": output}
        except asyncio.CancelledError:
            _uncancel()
            outcome = _failure(ExecutionStatus.CANCELLED, "cancelled", "Cancelled by request")
        except ProviderError as exc:
            outcome = _failure(ExecutionStatus.FAILED, f"provider.{exc.kind.value}", str(exc))
        except MaxIterationsError as exc:
            outcome = _failure(ExecutionStatus.FAILED, "max_iterations", str(exc))
        except Exception as exc:
            logger.exception("execution_crashed", execution_id=str(prepared.execution_id))
            outcome = _failure(ExecutionStatus.FAILED, type(exc).__name__, str(exc) or repr(exc))
        execution = await asyncio.shield(
            self._update(
                prepared,
                **outcome,
                input_tokens=tally.usage.input_tokens,
                output_tokens=tally.usage.output_tokens,
                cost=tally.cost,
                finished_at=utc_now(),
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
            )
        )
        await sink(RunEvent(_final_event_name(execution), execution_summary(execution)))
        return execution

    def _broadcasting(self, execution_id: uuid.UUID, sink: EventSink) -> EventSink:
        """Send each event to the caller and to the store's channel for followers elsewhere."""
        channel = events.channel_for(execution_id)

        async def emit(event: RunEvent) -> None:
            await sink(event)
            await self.store.publish(channel, events.encode(event))

        return emit

    async def follow(
        self, execution_id: uuid.UUID, *, owner_id: uuid.UUID
    ) -> AsyncIterator[RunEvent]:
        """The events of a run from now on, whichever process runs it; its outcome if it ended.

        The subscription starts before the status is read, so a run that ends in between
        is still seen ending.
        """
        async with self.store.subscribe(events.channel_for(execution_id)) as messages:
            async with self.database.transaction() as session:
                execution = await execution_crud.get(
                    session, execution_id=execution_id, owner_id=owner_id
                )
            if execution is None:
                return
            if execution.status.is_final:
                yield RunEvent(_final_event_name(execution), execution_summary(execution))
                return
            async for message in messages:
                event = events.decode(message)
                yield event
                if event.name in events.FINAL_EVENTS:
                    return

    async def _loop(
        self, prepared: PreparedRun, sink: EventSink, tally: _Tally, *, stream: bool
    ) -> str:
        agent = prepared.agent
        provider = self.providers.get(agent.provider)
        definitions = tuple(self.tools.definitions(agent.tools))
        messages = await self._history(prepared)
        context = ToolContext(
            settings=self.settings, database=self.database, user_id=prepared.user_id
        )
        for _ in range(self.settings.max_tool_iterations):
            request = CompletionRequest(
                model=agent.model,
                messages=tuple(messages),
                tools=definitions,
                temperature=agent.temperature,
                max_tokens=agent.max_tokens,
            )
            completion = await self._call(provider, request, sink, stream=stream)
            tally.add(agent.model, completion.usage)
            await self._store_assistant(prepared, completion)
            messages.append(
                ChatMessage(
                    role=Role.ASSISTANT,
                    content=completion.content,
                    tool_calls=completion.tool_calls,
                )
            )
            if not completion.tool_calls:
                return completion.content
            for call in completion.tool_calls:
                await sink(RunEvent(events.TOOL_CALL, _call_payload(call)))
            results = await self.tool_manager.run_calls(
                completion.tool_calls, allowed=agent.tools, context=context
            )
            for result in results:
                await self._store_tool_result(prepared, result)
                await sink(RunEvent(events.TOOL_RESULT, _result_payload(result)))
                messages.append(
                    ChatMessage(
                        role=Role.TOOL,
                        content=result.content,
                        tool_call_id=result.call_id,
                        name=result.name,
                    )
                )
        raise MaxIterationsError(
            f"Stopped after {self.settings.max_tool_iterations} model calls without a final answer"
        )

    async def _call(
        self, provider: Provider, request: CompletionRequest, sink: EventSink, *, stream: bool
    ) -> Completion:
        if not stream:
            return await provider.complete(request)
        completion: Completion | None = None
        async for event in provider.stream(request):
            if isinstance(event, TextDelta):
                await sink(RunEvent(events.MESSAGE_DELTA, {"text": event.text}))
            elif isinstance(event, StreamCompleted):
                completion = event.completion
        if completion is None:
            raise ProviderError(
                provider.name, ProviderErrorKind.BAD_RESPONSE, "stream ended without a reply"
            )
        return completion

    async def _history(self, prepared: PreparedRun) -> list[ChatMessage]:
        async with self.database.transaction() as session:
            rows = await message_crud.list_recent(
                session, conversation_id=prepared.conversation_id, limit=HISTORY_MESSAGE_LIMIT
            )
        stored = [to_chat_message(row) for row in rows if row.role is not MessageRole.SYSTEM]
        return fit_to_budget(
            prepared.agent.system_prompt, stored, self.settings.history_token_budget
        )

    async def _store_assistant(self, prepared: PreparedRun, completion: Completion) -> None:
        async with self.database.transaction() as session:
            await message_crud.append(
                session,
                conversation_id=prepared.conversation_id,
                role=MessageRole.ASSISTANT,
                content=completion.content,
                tool_calls=[_call_payload(call) for call in completion.tool_calls],
                input_tokens=completion.usage.input_tokens,
                output_tokens=completion.usage.output_tokens,
                execution_id=prepared.execution_id,
            )

    async def _store_tool_result(self, prepared: PreparedRun, result: ToolResult) -> None:
        async with self.database.transaction() as session:
            await message_crud.append(
                session,
                conversation_id=prepared.conversation_id,
                role=MessageRole.TOOL,
                content=result.content,
                tool_call_id=result.call_id,
                name=result.name,
                execution_id=prepared.execution_id,
            )

    async def _update(self, prepared: PreparedRun, **changes: Any) -> Execution:
        async with self.database.transaction() as session:
            execution = await execution_crud.get(
                session, execution_id=prepared.execution_id, owner_id=prepared.user_id
            )
            assert execution is not None
            return await execution_crud.update(session, execution=execution, changes=changes)


def execution_summary(execution: Execution) -> dict[str, Any]:
    """The JSON body of the final event: enough to render the outcome without a second call."""
    return {
        "execution_id": str(execution.id),
        "conversation_id": str(execution.conversation_id),
        "status": execution.status.value,
        "output": execution.output,
        "error_type": execution.error_type,
        "error_message": execution.error_message,
        "input_tokens": execution.input_tokens,
        "output_tokens": execution.output_tokens,
        "cost": str(execution.cost),
        "duration_ms": execution.duration_ms,
    }


def _final_event_name(execution: Execution) -> str:
    if execution.status is ExecutionStatus.COMPLETED:
        return events.EXECUTION_COMPLETED
    return events.EXECUTION_FAILED


def _call_payload(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "name": call.name, "arguments": call.arguments}


def _result_payload(result: ToolResult) -> dict[str, Any]:
    return {
        "call_id": result.call_id,
        "name": result.name,
        "content": result.content,
        "is_error": result.is_error,
        "duration_ms": result.duration_ms,
    }


def _failure(status: ExecutionStatus, error_type: str, message: str) -> dict[str, Any]:
    return {"status": status, "error_type": error_type, "error_message": message}


def _uncancel() -> None:
    """Clear the pending cancel so the outcome can still be written."""
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()
