"""An agent's guardrails applied where a run meets text: its input, tool results and replies.

Each is called inside the durable step that reads or stores that text, so a resumed run
replays the same verdict (a block is a recorded error, a redaction a recorded result).
"""

from __future__ import annotations

import dataclasses

from app.ai.guardrails.base import GuardContext, Stage
from app.ai.guardrails.pipeline import GuardrailPipeline
from app.ai.guardrails.registry import GuardrailRegistry
from app.ai.providers.base import Completion, Role
from app.ai.providers.factory import ProviderFactory
from app.ai.runs.history import History
from app.ai.runs.types import AgentSpec, PreparedRun
from app.ai.tools.manager import ToolResult
from app.crud import execution as execution_crud
from app.crud import message as message_crud
from app.db.session import Database


def pipeline_for(
    agent: AgentSpec, registry: GuardrailRegistry, providers: ProviderFactory
) -> GuardrailPipeline | None:
    """The agent's checks for this run, or None when it has none."""
    # A run queued before agents had guardrails was stored without them.
    configs = getattr(agent, "guardrails", ())
    if not configs:
        return None
    context = GuardContext(providers=providers, agent_provider=agent.provider)
    return GuardrailPipeline.of(configs, registry, context)


async def guard_input(
    database: Database, pipeline: GuardrailPipeline, prepared: PreparedRun, history: History
) -> History:
    """The history with the run's input checked: blocked (raises), or redacted where stored.

    A redacted input replaces the stored message and the execution's `input`, so the
    conversation keeps what the model was shown, and later turns never resend the span.
    """
    if not history.messages or history.messages[-1].role is not Role.USER:
        return history
    last = history.messages[-1]
    checked = await pipeline.apply(last.content, Stage.INPUT)
    if checked == last.content:
        return history
    async with database.transaction() as session:
        await message_crud.revise_input(
            session, execution_id=prepared.execution_id, content=checked
        )
        await execution_crud.change(
            session, execution_id=prepared.execution_id, changes={"input": checked}
        )
    messages = (*history.messages[:-1], dataclasses.replace(last, content=checked))
    return History(messages, history.sequences)


async def guard_completion(
    pipeline: GuardrailPipeline | None, completion: Completion
) -> Completion:
    """A whole reply checked before it is stored or sent."""
    if pipeline is None or not completion.content or not pipeline.applies_to(Stage.OUTPUT):
        return completion
    checked = await pipeline.apply(completion.content, Stage.OUTPUT)
    return dataclasses.replace(completion, content=checked)


async def guard_tool_result(pipeline: GuardrailPipeline | None, result: ToolResult) -> ToolResult:
    """A tool's answer checked before it is stored and goes back to the model."""
    if pipeline is None or not pipeline.applies_to(Stage.TOOL_RESULT):
        return result
    checked = await pipeline.apply(result.content, Stage.TOOL_RESULT)
    return dataclasses.replace(result, content=checked)
