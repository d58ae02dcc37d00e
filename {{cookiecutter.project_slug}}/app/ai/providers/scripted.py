"""An offline, deterministic model stand-in for development, demos and tests.

It never passes for an LLM: every reply starts with "[scripted]". Lines of the last user
message that start with a directive steer it, so it can be driven through the HTTP API:

    !tool <name> <json-args>   ask for a tool call (one line each, all in the same turn);
                               arguments that are not a JSON object are passed on marked,
                               as a real model's broken arguments would be
    !error <kind> [seconds]    fail with that ProviderErrorKind, e.g. `!error rate_limited 5`
                               (the seconds become the error's `retry_after`)
    !sleep <seconds>           wait before answering, e.g. to test cancellation

Other lines are echoed back. After tool results it reports them ("calculator -> 42"), so a
tool loop always ends on the turn after the tools ran.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import re
from collections import deque
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass

from app.ai.providers.base import (
    ChatMessage,
    Completion,
    CompletionRequest,
    FinishReason,
    Provider,
    ProviderError,
    ProviderErrorKind,
    Role,
    StreamCompleted,
    StreamEvent,
    TextDelta,
    ToolCall,
    Usage,
    decode_tool_call,
)

PREFIX = "[scripted]"
DEFAULT_MODEL = "scripted"
EMBEDDING_DIMENSIONS = 16

_DIRECTIVE = re.compile(r"^\s*!(tool|error|sleep)(?:\s+(.*))?$")
_PIECE = re.compile(r"\S+\s*|\s+")


@dataclass(frozen=True, slots=True)
class Directives:
    """What the last user message asks for, directives taken out."""

    text: str = ""
    calls: tuple[ToolCall, ...] = ()
    error: ProviderErrorKind | None = None
    retry_after: float | None = None
    sleep_seconds: float = 0.0


class ScriptedProvider(Provider):
    """Answers from directives, or replays a fixed `script` of replies for unit tests.

    `requests` records every request received, so tests can assert what was sent.
    """

    name = "scripted"

    def __init__(self, script: Iterable[Completion | ProviderError] | None = None) -> None:
        self._script = deque(script) if script is not None else None
        self._script_length = len(self._script) if self._script is not None else 0
        self.requests: list[CompletionRequest] = []

    async def complete(self, request: CompletionRequest) -> Completion:
        """The next scripted reply, or the answer the directives ask for."""
        self.requests.append(request)
        if self._script is not None:
            return self._replay(self._script)
        return await self._answer(request)

    async def stream(self, request: CompletionRequest) -> AsyncIterator[StreamEvent]:
        """The same reply as `complete`, word by word, so streaming paths run offline too."""
        completion = await self.complete(request)
        for piece in _PIECE.findall(completion.content):
            yield TextDelta(piece)
            await asyncio.sleep(0)
        yield StreamCompleted(completion)

    async def embed(self, texts: list[str], *, model: str | None = None) -> list[list[float]]:
        """Stable vectors derived from a hash: equal texts match, nothing more is meant."""
        return [
            [byte / 255 for byte in hashlib.sha256(text.encode()).digest()[:EMBEDDING_DIMENSIONS]]
            for text in texts
        ]

    def _replay(self, script: deque[Completion | ProviderError]) -> Completion:
        if not script:
            raise ProviderError(
                self.name,
                ProviderErrorKind.BAD_REQUEST,
                f"the script has no reply left after {self._script_length}",
            )
        reply = script.popleft()
        if isinstance(reply, ProviderError):
            raise reply
        return reply

    async def _answer(self, request: CompletionRequest) -> Completion:
        messages = request.messages
        last = messages[-1] if messages else None
        if last is not None and last.role is Role.TOOL:
            content = f"{PREFIX} " + "\n".join(_tool_results(messages))
            return _completion(request, content)
        user = next((m for m in reversed(messages) if m.role is Role.USER), None)
        plan = parse_directives(user.content if user else "")
        if last is not user:
            # Directives act once, on the turn right after the user spoke.
            plan = Directives(text=plan.text)
        if plan.sleep_seconds:
            await asyncio.sleep(plan.sleep_seconds)
        if plan.error is not None:
            raise ProviderError(
                self.name,
                plan.error,
                "failure requested by an !error directive",
                retry_after=plan.retry_after,
            )
        if plan.calls:
            names = ", ".join(call.name for call in plan.calls)
            return _completion(
                request, f"{PREFIX} calling {names}", FinishReason.TOOL_CALLS, plan.calls
            )
        return _completion(request, f"{PREFIX} {plan.text}".rstrip())


def parse_directives(text: str) -> Directives:
    """Split a user message into plain text and the directives on its lines.

    Raises:
        ProviderError: `bad_request` for a directive that cannot be understood.
    """
    lines: list[str] = []
    calls: list[ToolCall] = []
    error: ProviderErrorKind | None = None
    retry_after: float | None = None
    sleep_seconds = 0.0
    for line in text.splitlines():
        match = _DIRECTIVE.match(line)
        if match is None:
            lines.append(line)
            continue
        directive, argument = match.group(1), (match.group(2) or "").strip()
        if directive == "tool":
            calls.append(_tool_call(argument, len(calls) + 1))
        elif directive == "error":
            kind, _, seconds = argument.partition(" ")
            error = _error_kind(kind)
            retry_after = _seconds("!error", seconds) if seconds.strip() else None
        else:
            sleep_seconds = _seconds("!sleep", argument)
    return Directives("\n".join(lines).strip(), tuple(calls), error, retry_after, sleep_seconds)


def _tool_call(argument: str, number: int) -> ToolCall:
    name, _, raw = argument.partition(" ")
    if not name:
        raise _bad_directive('!tool needs a tool name, e.g. !tool calculator {"expression": "6*7"}')
    return decode_tool_call(f"call_{number}", name, raw)


def _error_kind(argument: str) -> ProviderErrorKind:
    try:
        return ProviderErrorKind(argument)
    except ValueError:
        known = ", ".join(kind.value for kind in ProviderErrorKind)
        raise _bad_directive(f"!error {argument!r}: choose one of {known}") from None


def _seconds(directive: str, argument: str) -> float:
    try:
        seconds = float(argument)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise _bad_directive(f"{directive} {argument!r}: give a number of seconds, e.g. 2")
    return seconds


def _bad_directive(message: str) -> ProviderError:
    return ProviderError(ScriptedProvider.name, ProviderErrorKind.BAD_REQUEST, message)


def _tool_results(messages: Sequence[ChatMessage]) -> list[str]:
    """The trailing tool results as "name -> result", in the order they were given."""
    names = {
        call.id: call.name
        for message in messages
        if message.role is Role.ASSISTANT
        for call in message.tool_calls
    }
    results: list[str] = []
    for message in reversed(messages):
        if message.role is not Role.TOOL:
            break
        name = message.name or names.get(message.tool_call_id or "", "tool")
        results.append(f"{name} -> {message.content}")
    return results[::-1]


def _completion(
    request: CompletionRequest,
    content: str,
    finish_reason: FinishReason = FinishReason.STOP,
    calls: tuple[ToolCall, ...] = (),
) -> Completion:
    words_in = sum(len(message.content.split()) for message in request.messages)
    return Completion(
        content=content,
        model=request.model or DEFAULT_MODEL,
        usage=Usage(input_tokens=words_in, output_tokens=len(content.split())),
        finish_reason=finish_reason,
        tool_calls=calls,
    )
