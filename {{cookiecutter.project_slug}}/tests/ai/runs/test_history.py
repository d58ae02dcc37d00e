"""Fitting a conversation into the model's token budget."""

from __future__ import annotations

from app.ai.providers.base import ChatMessage, Role, ToolCall
from app.ai.runs.history import estimate_tokens, fit_to_budget


def _user(text: str) -> ChatMessage:
    return ChatMessage(role=Role.USER, content=text)


def test_everything_is_kept_when_it_fits() -> None:
    messages = [_user("one"), ChatMessage(role=Role.ASSISTANT, content="two"), _user("three")]

    fitted = fit_to_budget("Be brief.", messages, budget=1_000)

    assert fitted[0] == ChatMessage(role=Role.SYSTEM, content="Be brief.")
    assert fitted[1:] == messages


def test_oldest_messages_are_dropped_first() -> None:
    messages = [_user("x" * 400), _user("y" * 400), _user("latest")]
    budget = estimate_tokens(messages[1]) + estimate_tokens(messages[2])

    fitted = fit_to_budget("", messages, budget=budget)

    assert [m.content[:1] for m in fitted] == ["y", "l"]


def test_the_newest_message_survives_even_when_too_large() -> None:
    huge = _user("z" * 10_000)

    assert fit_to_budget("", [_user("old"), huge], budget=10) == [huge]


def test_tool_results_never_lose_their_tool_call() -> None:
    call = ToolCall(id="c1", name="calculator", arguments={"expression": "1+1"})
    messages = [
        _user("q" * 800),
        ChatMessage(role=Role.ASSISTANT, content="", tool_calls=(call,)),
        ChatMessage(role=Role.TOOL, content="2", tool_call_id="c1"),
        ChatMessage(role=Role.ASSISTANT, content="It is 2."),
    ]
    only_tail = estimate_tokens(messages[2]) + estimate_tokens(messages[3])

    fitted = fit_to_budget("", messages, budget=only_tail)

    assert [m.role for m in fitted] == [Role.ASSISTANT]
