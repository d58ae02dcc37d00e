"""Fitting a conversation into the model's token budget."""

from __future__ import annotations

from app.ai.providers.base import ChatMessage, Role, ToolCall
from app.ai.runs.history import (
    SUMMARY_PREFIX,
    History,
    estimate_tokens,
    fit_to_budget,
    marker,
    split_for_budget,
    summary_request,
    with_summary,
)


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


def _numbered(messages: list[ChatMessage], first: int = 1) -> History:
    return History(tuple(messages), tuple(range(first, first + len(messages))))


def test_nothing_is_summarised_when_everything_fits() -> None:
    history = _numbered([_user("one"), ChatMessage(role=Role.ASSISTANT, content="two")])

    fitted = split_for_budget("Be brief.", history, budget=1_000, summary_tokens=100)

    assert (fitted.dropped, fitted.through) == ((), None)
    assert with_summary("Be brief.", fitted, None) == fit_to_budget(
        "Be brief.", history.messages, 1_000
    )


def test_the_older_turns_that_do_not_fit_are_the_ones_to_summarise() -> None:
    history = _numbered([_user("a" * 400), _user("b" * 400), _user("c" * 400), _user("latest")])
    summary_tokens = 20

    fitted = split_for_budget("", history, budget=230, summary_tokens=summary_tokens)

    assert [m.content[:1] for m in fitted.dropped] == ["a", "b"]
    assert [m.content[:1] for m in fitted.kept] == ["c", "l"]
    assert (fitted.through, fitted.omitted) == (2, 2)
    longest_summary = "s" * (summary_tokens * 4)
    sent = with_summary("", fitted, longest_summary)
    assert sum(estimate_tokens(m) for m in sent) <= 230


def test_room_is_kept_for_the_summary_by_dropping_one_more_turn() -> None:
    history = _numbered([_user("a" * 400), _user("b" * 400), _user("latest")])
    budget = estimate_tokens(history.messages[1]) + estimate_tokens(history.messages[2])

    fitted = split_for_budget("", history, budget=budget, summary_tokens=50)

    assert [m.content[:1] for m in fitted.dropped] == ["a", "b"]
    assert [m.content for m in fitted.kept] == ["latest"]


def test_a_tool_result_goes_with_its_call_into_the_summarised_part() -> None:
    call = ToolCall(id="c1", name="calculator", arguments={"expression": "1+1"})
    messages = [
        _user("q" * 800),
        ChatMessage(role=Role.ASSISTANT, content="", tool_calls=(call,)),
        ChatMessage(role=Role.TOOL, content="2", tool_call_id="c1", name="calculator"),
        ChatMessage(role=Role.ASSISTANT, content="It is 2."),
    ]
    only_tail = estimate_tokens(messages[2]) + estimate_tokens(messages[3])

    fitted = split_for_budget("", _numbered(messages), budget=only_tail, summary_tokens=0)

    assert [m.role for m in fitted.kept] == [Role.ASSISTANT]
    assert [m.role for m in fitted.dropped] == [Role.USER, Role.ASSISTANT, Role.TOOL]
    request = summary_request("m", None, fitted.dropped, max_tokens=64, budget=1_000)
    assert "[calls calculator {'expression': '1+1'}]" in request.messages[1].content
    assert "tool calculator: 2" in request.messages[1].content


def test_the_summary_comes_right_after_the_system_prompt() -> None:
    history = _numbered([_user("a" * 400), _user("latest")])
    fitted = split_for_budget("Be brief.", history, budget=60, summary_tokens=10)

    sent = with_summary("Be brief.", fitted, "They asked about a.")

    assert [(m.role, m.content) for m in sent] == [
        (Role.SYSTEM, "Be brief."),
        (Role.SYSTEM, SUMMARY_PREFIX + "They asked about a."),
        (Role.USER, "latest"),
    ]


def test_a_marker_is_sent_as_it_is() -> None:
    history = _numbered([_user("a" * 400), _user("b" * 400), _user("latest")], first=5)
    fitted = split_for_budget("", history, budget=60, summary_tokens=10)

    sent = with_summary("", fitted, marker(fitted.omitted))

    assert sent[0] == ChatMessage(role=Role.SYSTEM, content="[6 earlier messages omitted]")
    assert sent[1:] == [history.messages[-1]]


def test_only_turns_after_the_stored_summary_are_left_to_summarise() -> None:
    history = _numbered([_user(f"{n}" * 400) for n in range(1, 6)] + [_user("latest")])

    fitted = split_for_budget("", history, budget=100, summary_tokens=10)

    assert fitted.through == 5
    assert [m.content[:1] for m in fitted.unsummarised(3)] == ["4", "5"]
    assert fitted.unsummarised(5) == ()
    assert len(fitted.unsummarised(None)) == 5


def test_the_summary_request_folds_new_turns_into_the_summary_so_far() -> None:
    turns = [_user("new question " + "x" * 4_000)]

    request = summary_request("gpt-4o-mini", "Earlier: a", turns, max_tokens=64, budget=300)

    assert (request.model, request.max_tokens, request.tools) == ("gpt-4o-mini", 64, ())
    assert [m.role for m in request.messages] == [Role.SYSTEM, Role.USER]
    assert "Summary so far:\nEarlier: a" in request.messages[1].content
    # The turns are cut to the budget, newest kept, so the call itself always fits.
    assert len(request.messages[1].content) < 300 * 4 + 100
    assert request.messages[1].content.endswith("x" * 100)
