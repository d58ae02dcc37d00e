"""Runs a turn's tool calls concurrently, turning every failure into a result the model reads.

A model's mistake (an unknown tool, bad arguments, a slow call) must not end the run:
it becomes an error result, and the model can try again. Only cancellation of the
run itself propagates.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from pydantic import ValidationError

from app.ai.providers.base import ToolCall
from app.ai.tools.base import Tool, ToolContext, ToolError
from app.ai.tools.observing import observe_tool_call
from app.ai.tools.registry import ToolRegistry
from app.core.text import clean_text, truncate_text

DEFAULT_MAX_OUTPUT_BYTES = 100_000

logger = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ToolResult:
    """The answer to one tool call, as sent back to the model."""

    call_id: str
    name: str
    content: str
    is_error: bool
    duration_ms: float


def describe_validation_error(name: str, exc: ValidationError) -> str:
    """One line per problem, with the field path, so a model can fix its arguments."""
    problems = []
    for error in exc.errors(include_url=False):
        location = ".".join(str(part) for part in error["loc"]) or "arguments"
        problems.append(f"{location}: {error['msg']}")
    return f"Invalid arguments for {name}: " + "; ".join(problems)


class ToolManager:
    """Validates, time-limits and runs tool calls against one registry."""

    def __init__(
        self,
        registry: ToolRegistry,
        *,
        default_timeout_seconds: float,
        max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES,
    ) -> None:
        """`default_timeout_seconds` limits every tool that sets no limit of its own.

        `max_output_bytes` caps what any call returns before it is stored or sent to a model.
        """
        self.registry = registry
        self.default_timeout_seconds = default_timeout_seconds
        self.max_output_bytes = max_output_bytes

    def timeout_for(self, tool: Tool[Any]) -> float:
        """The limit a call of `tool` runs under, as the API reports it."""
        return tool.timeout_for(self.default_timeout_seconds)

    async def run_calls(
        self,
        calls: Sequence[ToolCall],
        *,
        allowed: Collection[str],
        context: ToolContext,
    ) -> list[ToolResult]:
        """Run one turn's calls at once; results come back in the order of the calls."""
        async with asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(self.run_call(call, allowed=allowed, context=context))
                for call in calls
            ]
        return [task.result() for task in tasks]

    async def run_call(
        self, call: ToolCall, *, allowed: Collection[str], context: ToolContext
    ) -> ToolResult:
        """Run one call; every outcome except cancellation is a `ToolResult`."""
        # Per-user tools (MCP) count as unknown, so metric labels stay a bounded set.
        with observe_tool_call(call, known=call.name in self.registry) as observed:
            content, is_error = await self._outcome(call, allowed=allowed, context=context)
            content = truncate_text(clean_text(content), self.max_output_bytes)
            observed.is_error = is_error
        duration_ms = round(observed.seconds * 1000, 3)
        logger.info(
            "tool_call",
            tool=call.name,
            call_id=call.id,
            is_error=is_error,
            duration_ms=duration_ms,
        )
        return ToolResult(
            call_id=call.id,
            name=call.name,
            content=content,
            is_error=is_error,
            duration_ms=duration_ms,
        )

    async def _outcome(
        self, call: ToolCall, *, allowed: Collection[str], context: ToolContext
    ) -> tuple[str, bool]:
        name = self.registry.agent_name(call.name)
        if name not in allowed:
            return f"Tool {call.name!r} is not enabled here", True
        if not self.registry.offers(name):
            return f"Tool {call.name!r} does not exist", True
        if call.arguments_error is not None:
            return (
                f"Invalid arguments for {call.name}: {call.arguments_error}. "
                "Send the arguments again as one JSON object.",
                True,
            )
        try:
            tool = await self.registry.resolve(name, context)
        except ToolError as exc:
            return exc.message, True
        try:
            args = tool.parse(call.arguments)
        except ValidationError as exc:
            return describe_validation_error(call.name, exc), True
        seconds = self.timeout_for(tool)
        deadline = asyncio.timeout(seconds)
        try:
            async with deadline:
                return await tool.run(args, context), False
        except ToolError as exc:
            return exc.message, True
        except TimeoutError:
            if deadline.expired():
                return f"{call.name} timed out after {seconds:g}s", True
            logger.exception("tool_failed", tool=call.name, call_id=call.id)
            return f"{call.name} failed: TimeoutError", True
        except Exception as exc:
            # The message may carry internals (paths, URLs with credentials): log it, do
            # not hand it to the model.
            logger.exception("tool_failed", tool=call.name, call_id=call.id)
            return f"{call.name} failed unexpectedly ({type(exc).__name__})", True
