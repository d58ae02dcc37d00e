"""Turning stored messages into model input that fits a token budget."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.ai.providers.base import ChatMessage, CompletionRequest, Role, ToolCall
from app.models import Message

# Close enough for budgeting across vendors without shipping each tokenizer.
CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD_TOKENS = 4
SUMMARY_PREFIX = "Summary of the earlier conversation: "
MARKER_PATTERN = re.compile(r"\[\d+ earlier messages omitted\]")
SUMMARISER_PROMPT = (
    "You condense conversations so they can be continued later. Summarise the conversation "
    "you are given, merged with the summary so far if there is one: keep facts, names, "
    "numbers, decisions and open questions. Reply with the summary only."
)


@dataclass(frozen=True, slots=True)
class History:
    """A conversation's newest stored messages, oldest first, with their sequence numbers."""

    messages: tuple[ChatMessage, ...]
    sequences: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Fitted:
    """What a run sends, and the older turns a summary has to stand for."""

    kept: tuple[ChatMessage, ...]
    dropped: tuple[ChatMessage, ...] = ()
    dropped_sequences: tuple[int, ...] = ()
    # How many messages of the conversation come before the kept ones.
    omitted: int = 0

    @property
    def through(self) -> int | None:
        """The sequence number of the newest dropped message, if any was dropped."""
        return self.dropped_sequences[-1] if self.dropped_sequences else None

    def unsummarised(self, summary_through: int | None) -> tuple[ChatMessage, ...]:
        """The dropped turns a summary covering up to `summary_through` leaves out."""
        floor = 0 if summary_through is None else summary_through
        return tuple(
            m for m, s in zip(self.dropped, self.dropped_sequences, strict=True) if s > floor
        )


def estimate_tokens(message: ChatMessage) -> int:
    """A cheap, tokenizer-free estimate: about four characters per token."""
    text = message.content + "".join(call.name + str(call.arguments) for call in message.tool_calls)
    return MESSAGE_OVERHEAD_TOKENS + len(text) // CHARS_PER_TOKEN


def to_chat_message(message: Message) -> ChatMessage:
    """Rebuild the provider-neutral form of a stored message."""
    calls = tuple(
        ToolCall(id=str(c["id"]), name=str(c["name"]), arguments=dict(c.get("arguments") or {}))
        for c in message.tool_calls or []
    )
    return ChatMessage(
        role=Role(message.role.value),
        content=message.content,
        tool_calls=calls,
        tool_call_id=message.tool_call_id,
        name=message.name,
    )


def fit_to_budget(
    system_prompt: str, messages: Sequence[ChatMessage], budget: int
) -> list[ChatMessage]:
    """Keep the system prompt and the newest messages that fit in `budget` tokens.

    The newest message is always kept. Tool results are never left without the
    assistant turn that asked for them, since providers reject such orphans.
    """
    start = _first_kept(system_prompt, messages, budget)
    return _system(system_prompt) + list(messages[start:])


def split_for_budget(
    system_prompt: str, history: History, budget: int, summary_tokens: int
) -> Fitted:
    """Like `fit_to_budget`, but with room kept for a summary once anything is dropped."""
    messages = history.messages
    start = _first_kept(system_prompt, messages, budget)
    if start == 0:
        return Fitted(kept=messages)
    reserve = summary_tokens + MESSAGE_OVERHEAD_TOKENS + len(SUMMARY_PREFIX) // CHARS_PER_TOKEN
    start = max(start, _first_kept(system_prompt, messages, budget - reserve))
    return Fitted(
        kept=messages[start:],
        dropped=messages[:start],
        dropped_sequences=history.sequences[:start],
        omitted=start + history.sequences[0] - 1,
    )


def marker(omitted: int) -> str:
    """What stands for dropped turns when no summary of them can be had."""
    return f"[{omitted} earlier messages omitted]"


def with_summary(system_prompt: str, fitted: Fitted, summary: str | None) -> list[ChatMessage]:
    """The model's input: the system prompt, the summary as a system message, the kept turns."""
    extra: list[ChatMessage] = []
    if summary:
        text = summary if MARKER_PATTERN.fullmatch(summary) else SUMMARY_PREFIX + summary
        extra.append(ChatMessage(role=Role.SYSTEM, content=text))
    return _system(system_prompt) + extra + list(fitted.kept)


def summary_request(
    model: str, previous: str | None, turns: Sequence[ChatMessage], max_tokens: int, budget: int
) -> CompletionRequest:
    """The call that folds `turns` into the summary so far, its input held to `budget`."""
    text = transcript(turns)[-budget * CHARS_PER_TOKEN :]
    so_far = f"Summary so far:\n{previous}\n\n" if previous else ""
    return CompletionRequest(
        model=model,
        messages=(
            ChatMessage(role=Role.SYSTEM, content=SUMMARISER_PROMPT),
            ChatMessage(role=Role.USER, content=f"{so_far}Conversation:\n{text}"),
        ),
        max_tokens=max_tokens,
    )


def transcript(turns: Sequence[ChatMessage]) -> str:
    """Turns as plain text, tool calls and results included, for the summarising model."""
    lines = []
    for turn in turns:
        speaker = f"tool {turn.name}" if turn.role is Role.TOOL and turn.name else turn.role.value
        calls = "".join(f" [calls {c.name} {c.arguments}]" for c in turn.tool_calls)
        lines.append(f"{speaker}: {turn.content}{calls}")
    return "\n".join(lines)


def _system(system_prompt: str) -> list[ChatMessage]:
    return [ChatMessage(role=Role.SYSTEM, content=system_prompt)] if system_prompt else []


def _first_kept(system_prompt: str, messages: Sequence[ChatMessage], budget: int) -> int:
    """Where the newest messages that fit begin, past any tool result cut off from its call."""
    remaining = budget - sum(estimate_tokens(m) for m in _system(system_prompt))
    start = len(messages)
    while start > 0:
        cost = estimate_tokens(messages[start - 1])
        if start < len(messages) and cost > remaining:
            break
        remaining -= cost
        start -= 1
    while start < len(messages) - 1 and messages[start].role is Role.TOOL:
        start += 1
    return start
