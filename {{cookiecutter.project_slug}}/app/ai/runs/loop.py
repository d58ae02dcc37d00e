"""The agent loop: call the model, run the tools it asks for, feed back the results, repeat.

It stops when the model answers without asking for tools, or raises once the
configured number of model calls is spent. Each message is stored as it is produced;
the answer goes with the run's outcome.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Sequence

import structlog

from app.ai.budgets import CallBudgets
from app.ai.guardrails.base import GuardrailBlockedError, Stage
from app.ai.guardrails.catalog import default_registry
from app.ai.guardrails.pipeline import GuardrailPipeline
from app.ai.guardrails.registry import GuardrailRegistry
from app.ai.guardrails.streaming import StreamGuard
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
)
from app.ai.providers.factory import ProviderFactory
from app.ai.runs import durable, events, guarding, metering, persistence, summaries
from app.ai.runs.events import EventSink, RunEvent
from app.ai.runs.history import History, split_for_budget, with_summary
from app.ai.runs.types import Draft, PreparedRun, RunTally
from app.ai.tools.base import ToolContext
from app.ai.tools.manager import ToolManager, ToolResult
from app.ai.tools.registry import ToolRegistry
from app.core.bounded import quietly
from app.core.config import Settings
from app.core.outages import OUTAGE_ERRORS
from app.db.session import Database

logger = structlog.get_logger(__name__)

# How often a reply being streamed is saved, so a crash loses at most this much of it.
DRAFT_SAVE_SECONDS = 1.0
# How long giving back a failed call's reservation may hold up the failure.
BUDGET_RELEASE_SECONDS = 2.0


class MaxIterationsError(Exception):
    """The model kept asking for tools past the configured bound."""


class UnrepeatableToolError(Exception):
    """A resumed run reached a tool call that was cut short and is not safe to repeat."""


class AgentLoop:
    """Drives one run from its stored history to the model's final answer."""

    def __init__(
        self,
        *,
        settings: Settings,
        database: Database,
        providers: ProviderFactory,
        tools: ToolRegistry,
        tool_manager: ToolManager,
        budgets: CallBudgets,
        guardrails: GuardrailRegistry | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.providers = providers
        self.tools = tools
        self.tool_manager = tool_manager
        self.guardrails = default_registry() if guardrails is None else guardrails
        self.budgets = budgets

    async def run(
        self,
        prepared: PreparedRun,
        history: History,
        sink: EventSink,
        tally: RunTally,
        *,
        stream: bool,
    ) -> str:
        """Loop until the model answers; return its answer, counting usage into `tally`.

        `history` is the stored conversation; the newest of it that fits the model's budget
        is sent, after a summary of the older turns. The answer itself is left in `tally.draft` for the run's outcome to store.
        """
        agent = prepared.agent
        provider = self.providers.get(agent.provider)
        context = ToolContext(
            user_id=prepared.user_id,
            database=self.database,
            agent_id=agent.id,
            organization_id=prepared.organization_id,
        )
        definitions = tuple(await self.tools.definitions_for(agent.tools, context))
        settings = self.settings
        guard = guarding.pipeline_for(agent, self.guardrails, self.providers)
        if guard is not None:
            # Before anything reaches the provider: a blocked input never calls it.
            history = await durable.step(
                "guard_input", guarding.guard_input, self.database, guard, prepared, history
            )
        fitted = split_for_budget(
            agent.system_prompt,
            history,
            settings.history_token_budget,
            settings.history_summary_max_tokens,
        )

        async def ask(request: CompletionRequest) -> Completion:
            return await self._call(provider, request, sink, prepared, tally.draft, False, None)

        summary = await summaries.summary_for(
            fitted,
            settings=settings,
            database=self.database,
            prepared=prepared,
            provider_name=provider.name,
            call=ask,
            tally=tally,
        )
        messages = with_summary(agent.system_prompt, fitted, summary)
        for _ in range(self.settings.max_tool_iterations):
            request = CompletionRequest(
                model=agent.model,
                messages=tuple(messages),
                tools=definitions,
                temperature=agent.temperature,
                max_tokens=agent.max_tokens,
            )
            completion = await durable.step(
                "model_call",
                self._call,
                provider,
                request,
                sink,
                prepared,
                tally.draft,
                stream,
                guard,
            )
            tally.add(agent.model, completion.usage)
            if not completion.tool_calls:
                # Stored with the run's outcome, in the same transaction.
                tally.draft.final = completion
                return completion.content
            await durable.step(
                "record_assistant_message",
                persistence.store_assistant_message,
                self.database,
                prepared,
                completion,
                tally.draft,
            )
            messages.append(
                ChatMessage(
                    role=Role.ASSISTANT,
                    content=completion.content,
                    tool_calls=completion.tool_calls,
                )
            )
            for call in completion.tool_calls:
                await sink(RunEvent(events.TOOL_CALL, events.tool_call_payload(call)))
            results = await self._run_tools(completion.tool_calls, agent.tools, context, guard)
            await durable.step(
                "record_tool_results",
                persistence.store_tool_results,
                self.database,
                prepared,
                completion.tool_calls,
                results,
            )
            for result in results:
                await sink(RunEvent(events.TOOL_RESULT, events.tool_result_payload(result)))
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

    async def _run_tools(
        self,
        calls: Sequence[ToolCall],
        allowed: Sequence[str],
        context: ToolContext,
        guard: GuardrailPipeline | None,
    ) -> list[ToolResult]:
        """One turn's calls at once, each a step; results in the order of the calls.

        Before a call to a tool that is not safe to repeat, a step records which attempt
        of the run began it: finding an earlier attempt there means it was cut short.
        """
        began = {
            call.id: await durable.step("tool_call_began", durable.current_attempt)
            for call in calls
            if call.name in self.tools and not self.tools.get(call.name).repeatable
        }

        async def run_one(call: ToolCall) -> ToolResult:
            if began.get(call.id, durable.attempt()) != durable.attempt():
                raise UnrepeatableToolError(
                    f"The run stopped while {call.name} was running, and {call.name} is "
                    "not safe to repeat; start a new run to try again"
                )
            result = await self.tool_manager.run_call(call, allowed=allowed, context=context)
            return await guarding.guard_tool_result(guard, result)

        try:
            async with asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(durable.step(f"tool:{call.name}", run_one, call))
                    for call in calls
                ]
        except ExceptionGroup as failed:
            cut_short = [
                e
                for e in failed.exceptions
                if isinstance(e, UnrepeatableToolError | GuardrailBlockedError)
            ]
            if cut_short:
                raise cut_short[0] from None
            raise
        return [task.result() for task in tasks]

    async def _call(
        self,
        provider: Provider,
        request: CompletionRequest,
        sink: EventSink,
        prepared: PreparedRun,
        draft: Draft,
        stream: bool,
        guard: GuardrailPipeline | None,
    ) -> Completion:
        """One model call within its deadline and its budgets, its reply checked.

        The call's most is reserved against the budgets first (a call that cannot fit is
        never made) and settled to what it spent after; a failed call spends nothing. The
        reply is checked by the agent's guardrails inside the step, so a resumed run replays
        the checked reply (or the block) rather than judging it again.
        """
        reservation = await self.budgets.reserve(
            prepared.user_id, request, organization_id=prepared.organization_id
        )
        try:
            completion = await self._timed(provider, request, sink, prepared, draft, stream, guard)
        except BaseException:
            release = self.budgets.settle(reservation, request.model, None)
            await quietly(release, BUDGET_RELEASE_SECONDS, what="budget release")
            raise
        await self.budgets.settle(reservation, request.model, completion.usage)
        return completion

    async def _timed(
        self,
        provider: Provider,
        request: CompletionRequest,
        sink: EventSink,
        prepared: PreparedRun,
        draft: Draft,
        stream: bool,
        guard: GuardrailPipeline | None,
    ) -> Completion:
        """One model call within its deadline, however slowly the provider keeps it alive."""
        seconds = self.settings.llm_call_timeout_seconds
        deadline = asyncio.timeout(seconds)
        with metering.observe_call(provider.name, request.model) as observed:
            try:
                async with deadline:
                    if not stream:
                        completion = await provider.complete(request)
                        completion = await guarding.guard_completion(guard, completion)
                    else:
                        completion = await self._streamed(
                            provider, request, sink, prepared, draft, guard
                        )
            except TimeoutError:
                if not deadline.expired():
                    raise
                raise ProviderError(
                    provider.name,
                    ProviderErrorKind.TIMEOUT,
                    f"no complete reply within {seconds:g}s",
                ) from None
            observed.answered(completion)
            return completion

    async def _streamed(
        self,
        provider: Provider,
        request: CompletionRequest,
        sink: EventSink,
        prepared: PreparedRun,
        draft: Draft,
        guard: GuardrailPipeline | None,
    ) -> Completion:
        """Send each text delta on as it arrives, saving the growing reply as it goes.

        With output guardrails the deltas pass through a `StreamGuard`: only text it
        releases is sent or saved, and the reply stored is exactly what was sent.
        """
        completion: Completion | None = None
        checked = (
            None if guard is None or not guard.applies_to(Stage.OUTPUT) else StreamGuard(guard)
        )
        async for event in provider.stream(request):
            if isinstance(event, TextDelta):
                text = event.text if checked is None else await checked.feed(event.text)
                await self._send(text, sink, prepared, draft)
            elif isinstance(event, StreamCompleted):
                completion = event.completion
        if completion is None:
            raise ProviderError(
                provider.name, ProviderErrorKind.BAD_RESPONSE, "stream ended without a reply"
            )
        if checked is None:
            return completion
        await self._send(await checked.finish(), sink, prepared, draft)
        return dataclasses.replace(completion, content=checked.text)

    async def _send(self, text: str, sink: EventSink, prepared: PreparedRun, draft: Draft) -> None:
        """One delta to the client and the draft, saved now and then."""
        if not text:
            return
        draft.text += text
        await sink(RunEvent(events.MESSAGE_DELTA, {"text": text}))
        if time.monotonic() - draft.saved_at >= DRAFT_SAVE_SECONDS:
            await self._save(prepared, draft)

    async def _save(self, prepared: PreparedRun, draft: Draft) -> None:
        """Best effort: a database hiccup must not end a reply the client is reading."""
        draft.saved_at = time.monotonic()
        try:
            await persistence.save_draft(self.database, prepared, draft)
        except OUTAGE_ERRORS as exc:
            logger.warning(
                "draft_save_failed", execution_id=str(prepared.execution_id), error=repr(exc)
            )
