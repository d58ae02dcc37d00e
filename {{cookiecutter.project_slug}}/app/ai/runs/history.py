"""Turning stored messages into model input that fits a token budget."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from app.ai.providers.base import ChatMessage, Role, ToolCall
from app.models import Message

# Close enough for budgeting across vendors without shipping each tokenizer.
CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD_TOKENS = 4


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
    system = [ChatMessage(role=Role.SYSTEM, content=system_prompt)] if system_prompt else []
    remaining = budget - sum(estimate_tokens(m) for m in system)
    kept: list[ChatMessage] = []
    for message in reversed(messages):
        cost = estimate_tokens(message)
        if kept and cost > remaining:
            break
        kept.append(message)
        remaining -= cost
    kept.reverse()
    return system + list(_drop_orphan_tool_results(kept))


def _drop_orphan_tool_results(messages: list[ChatMessage]) -> Iterable[ChatMessage]:
    start = 0
    while start < len(messages) - 1 and messages[start].role is Role.TOOL:
        start += 1
    return messages[start:]
