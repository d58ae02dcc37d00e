"""A streamed reply under guardrails: nothing blocked or redacted ever leaves the guard.

Each test feeds deltas as a provider would, including a term or an email split across
them, and checks everything the guard released along the way.
"""

from __future__ import annotations

import pytest

from app.ai.guardrails.base import GuardContext, GuardrailBlockedError, Stage
from app.ai.guardrails.builtin.pii import PiiConfig, PiiGuardrail
from app.ai.guardrails.builtin.terms import BlockedTermsConfig, BlockedTermsGuardrail
from app.ai.guardrails.pipeline import GuardrailPipeline
from app.ai.guardrails.streaming import StreamGuard


def _terms(context: GuardContext, action: str = "block") -> GuardrailPipeline:
    config = BlockedTermsConfig.model_validate(
        {"type": "blocked_terms", "terms": ["falcon"], "action": action}
    )
    return GuardrailPipeline([BlockedTermsGuardrail(config)], context)


async def _run(guard: StreamGuard, deltas: list[str]) -> tuple[list[str], BaseException | None]:
    """What was released, delta by delta, and the block that ended it, if any."""
    sent: list[str] = []
    try:
        for delta in deltas:
            sent.append(await guard.feed(delta))
        sent.append(await guard.finish())
    except GuardrailBlockedError as exc:
        return sent, exc
    return sent, None


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7])
async def test_a_term_split_across_deltas_never_gets_out(
    size: int, guard_context: GuardContext
) -> None:
    reply = "The plan is simple and quiet. Codename fal" + "con launches at dawn, they say."
    sent, blocked = await _run(StreamGuard(_terms(guard_context)), _pieces(reply, size))

    assert isinstance(blocked, GuardrailBlockedError)
    assert "fal" not in "".join(sent).lower()
    assert "The plan is simple" in "".join(sent)


async def test_a_term_at_the_very_end_is_caught_when_the_reply_completes(
    guard_context: GuardContext,
) -> None:
    sent, blocked = await _run(StreamGuard(_terms(guard_context)), ["Say fal", "con"])
    assert isinstance(blocked, GuardrailBlockedError)
    assert "".join(sent) == ""


async def test_a_prefix_of_a_longer_word_is_released_once_the_word_ends(
    guard_context: GuardContext,
) -> None:
    reply = "The falconry club meets weekly at noon in the old hall by the river."
    guard = StreamGuard(_terms(guard_context))
    sent, blocked = await _run(guard, _pieces(reply, 1))
    assert blocked is None
    assert "".join(sent) == reply == guard.text


@pytest.mark.parametrize("size", [1, 4, 9])
async def test_redacted_stream_matches_the_whole_text_redacted(
    size: int, guard_context: GuardContext
) -> None:
    pipeline = GuardrailPipeline([PiiGuardrail(PiiConfig())], guard_context)
    reply = (
        "Reach Ada at ada@example.com or 415-555-2671; her card 4111 1111 1111 1111 "
        "is on file, and order 1234567890123456 ships today. " * 3
    )
    guard = StreamGuard(pipeline)
    sent, blocked = await _run(guard, _pieces(reply, size))

    assert blocked is None
    streamed = "".join(sent)
    assert streamed == guard.text == await pipeline.apply(reply, Stage.OUTPUT)
    assert "ada@" not in streamed
    assert "4111" not in streamed
    assert "1234567890123456" in streamed


async def test_text_is_released_before_the_reply_ends(guard_context: GuardContext) -> None:
    guard = StreamGuard(_terms(guard_context, action="redact"))
    released = [await guard.feed(piece) for piece in _pieces("word " * 40, 5)]
    assert "".join(released).startswith("word word")
