"""The manager: concurrency, order, and every failure turned into a readable result."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import Field

from app.ai.providers.base import ToolCall
from app.ai.tools.base import Tool, ToolArguments, ToolContext, ToolError
from app.ai.tools.manager import ToolManager
from app.ai.tools.registry import ToolRegistry


class EchoArgs(ToolArguments):
    text: str = Field(max_length=10)


class EchoTool(Tool[EchoArgs]):
    name = "echo"
    description = "Repeat the text."
    arguments = EchoArgs

    async def run(self, args: EchoArgs, context: ToolContext) -> str:
        return args.text


class NoArgs(ToolArguments):
    pass


class RendezvousTool(Tool[NoArgs]):
    """Finishes only once two calls are in flight at the same time."""

    name = "rendezvous"
    description = "Meet another call."
    arguments = NoArgs
    timeout_seconds = 2.0

    def __init__(self) -> None:
        self.arrived = 0
        self.both_here = asyncio.Event()

    async def run(self, args: NoArgs, context: ToolContext) -> str:
        self.arrived += 1
        if self.arrived == 2:
            self.both_here.set()
        await self.both_here.wait()
        return "met"


class SlowTool(Tool[NoArgs]):
    name = "slow"
    description = "Takes far too long."
    arguments = NoArgs
    timeout_seconds = 0.05

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.cancelled = False

    async def run(self, args: NoArgs, context: ToolContext) -> str:
        self.started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        return "never"


class PatientSlowTool(SlowTool):
    name = "patient_slow"
    timeout_seconds = 30.0


class RefusingTool(Tool[NoArgs]):
    name = "refuse"
    description = "Always refuses."
    arguments = NoArgs

    async def run(self, args: NoArgs, context: ToolContext) -> str:
        raise ToolError("Ask for something else")


class BrokenTool(Tool[NoArgs]):
    name = "broken"
    description = "Crashes with internals in the message."
    arguments = NoArgs

    async def run(self, args: NoArgs, context: ToolContext) -> str:
        raise RuntimeError("password=hunter2 at /srv/secret")


class InnerTimeoutTool(Tool[NoArgs]):
    name = "inner_timeout"
    description = "Its own timeout fires, not the manager's."
    arguments = NoArgs

    async def run(self, args: NoArgs, context: ToolContext) -> str:
        raise TimeoutError


DEFAULT_TIMEOUT = 30.0
ALL = ["echo", "rendezvous", "slow", "patient_slow", "refuse", "broken", "inner_timeout"]


@pytest.fixture
def manager() -> ToolManager:
    return ToolManager(
        ToolRegistry(
            [
                EchoTool(),
                RendezvousTool(),
                SlowTool(),
                PatientSlowTool(),
                RefusingTool(),
                BrokenTool(),
                InnerTimeoutTool(),
            ]
        ),
        default_timeout_seconds=DEFAULT_TIMEOUT,
    )


def call(name: str, call_id: str = "c1", **arguments: object) -> ToolCall:
    return ToolCall(id=call_id, name=name, arguments=dict(arguments))


async def test_results_follow_the_order_of_the_calls(
    manager: ToolManager, tool_context: ToolContext
) -> None:
    calls = [call("echo", "a", text="one"), call("refuse", "b"), call("echo", "c", text="two")]
    results = await manager.run_calls(calls, allowed=ALL, context=tool_context)
    assert [(r.call_id, r.name, r.content, r.is_error) for r in results] == [
        ("a", "echo", "one", False),
        ("b", "refuse", "Ask for something else", True),
        ("c", "echo", "two", False),
    ]
    assert all(r.duration_ms >= 0 for r in results)


async def test_calls_of_one_turn_run_concurrently(
    manager: ToolManager, tool_context: ToolContext
) -> None:
    results = await manager.run_calls(
        [call("rendezvous", "a"), call("rendezvous", "b")], allowed=ALL, context=tool_context
    )
    assert [r.content for r in results] == ["met", "met"]


async def test_no_calls_no_results(manager: ToolManager, tool_context: ToolContext) -> None:
    assert await manager.run_calls([], allowed=ALL, context=tool_context) == []


async def test_invalid_arguments_name_the_problem(
    manager: ToolManager, tool_context: ToolContext
) -> None:
    missing, too_long, extra = await manager.run_calls(
        [
            call("echo", "a"),
            call("echo", "b", text="far too long for it"),
            call("echo", "c", text="ok", volume=11),
        ],
        allowed=ALL,
        context=tool_context,
    )
    assert missing.is_error
    assert missing.content == "Invalid arguments for echo: text: Field required"
    assert too_long.is_error
    assert "text: String should have at most 10 characters" in too_long.content
    assert extra.is_error
    assert "volume: Extra inputs are not permitted" in extra.content


async def test_unknown_and_disallowed_tools_are_error_results(
    manager: ToolManager, tool_context: ToolContext
) -> None:
    unknown, disallowed = await manager.run_calls(
        [call("nope", "a"), call("echo", "b", text="hi")],
        allowed=["nope"],
        context=tool_context,
    )
    assert unknown.is_error
    assert unknown.content == "Tool 'nope' does not exist"
    assert disallowed.is_error
    assert disallowed.content == "Tool 'echo' is not enabled here"


async def test_a_slow_call_times_out_without_holding_up_the_others(
    manager: ToolManager, tool_context: ToolContext
) -> None:
    slow, quick = await manager.run_calls(
        [call("slow", "a"), call("echo", "b", text="hi")], allowed=ALL, context=tool_context
    )
    assert slow.is_error
    assert slow.content == "slow timed out after 0.05s"
    assert slow.duration_ms < 2_000
    assert quick.content == "hi"


async def test_a_crash_is_reported_without_its_message(
    manager: ToolManager, tool_context: ToolContext
) -> None:
    (result,) = await manager.run_calls([call("broken")], allowed=ALL, context=tool_context)
    assert result.is_error
    assert result.content == "broken failed unexpectedly (RuntimeError)"
    assert "hunter2" not in result.content


async def test_a_tools_own_timeout_is_not_reported_as_the_deadline(
    manager: ToolManager, tool_context: ToolContext
) -> None:
    (result,) = await manager.run_calls([call("inner_timeout")], allowed=ALL, context=tool_context)
    assert result.is_error
    assert result.content == "inner_timeout failed: TimeoutError"


async def test_cancelling_the_turn_cancels_the_tools_and_propagates(
    manager: ToolManager, tool_context: ToolContext
) -> None:
    slow = manager.registry.get("patient_slow")
    assert isinstance(slow, PatientSlowTool)
    turn = asyncio.create_task(
        manager.run_calls(
            [call("patient_slow", "a"), call("echo", "b", text="hi")],
            allowed=ALL,
            context=tool_context,
        )
    )
    await asyncio.wait_for(slow.started.wait(), timeout=2)
    turn.cancel()
    with pytest.raises(asyncio.CancelledError):
        await turn
    assert slow.cancelled


async def test_a_tool_without_a_limit_runs_under_the_default(tool_context: ToolContext) -> None:
    class UnboundedSlowTool(Tool[NoArgs]):
        name = "unbounded_slow"
        description = "Sets no limit of its own."
        arguments = NoArgs
        cancelled = False

        async def run(self, args: NoArgs, context: ToolContext) -> str:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                self.cancelled = True
                raise
            return "never"

    tool = UnboundedSlowTool()
    manager = ToolManager(ToolRegistry([tool]), default_timeout_seconds=0.05)
    assert manager.timeout_for(tool) == 0.05
    (result,) = await manager.run_calls(
        [call("unbounded_slow")], allowed=["unbounded_slow"], context=tool_context
    )
    assert result.content == "unbounded_slow timed out after 0.05s"
    assert tool.cancelled


class FloodArgs(ToolArguments):
    size: int


class FloodTool(Tool[FloodArgs]):
    """Returns far more than anyone should store, with text no database can hold."""

    name = "flood"
    description = "Return a lot."
    arguments = FloodArgs

    async def run(self, args: FloodArgs, context: ToolContext) -> str:
        return "a\x00b\ud800" + "x" * args.size


async def test_output_is_cleaned_and_capped_before_anyone_sees_it(
    tool_context: ToolContext,
) -> None:
    manager = ToolManager(
        ToolRegistry([FloodTool()]), default_timeout_seconds=5, max_output_bytes=2048
    )

    small, large = await manager.run_calls(
        [call("flood", "c1", size=10), call("flood", "c2", size=10_000_000)],
        allowed={"flood"},
        context=tool_context,
    )

    assert small.content == "ab\ufffd" + "x" * 10
    assert len(large.content.encode()) <= 2048
    assert large.content.endswith("[truncated]")
