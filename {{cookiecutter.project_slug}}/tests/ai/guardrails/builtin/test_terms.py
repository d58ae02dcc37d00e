"""Blocked terms and patterns: case-insensitive, whole words, phrases across spaces."""

from __future__ import annotations

import pytest

from app.ai.guardrails.base import GuardContext, GuardrailBlockedError, Stage
from app.ai.guardrails.builtin.terms import BlockedTermsConfig, BlockedTermsGuardrail
from app.ai.guardrails.pipeline import GuardrailPipeline


def _pipeline(context: GuardContext, **options: object) -> GuardrailPipeline:
    config = BlockedTermsConfig.model_validate({"type": "blocked_terms", **options})
    return GuardrailPipeline([BlockedTermsGuardrail(config)], context)


@pytest.mark.parametrize(
    "text",
    ["Project Falcon launches", "PROJECT   FALCON", "about project falcon.", "(project falcon)"],
)
async def test_a_term_blocks_in_any_case_and_spacing(
    text: str, guard_context: GuardContext
) -> None:
    pipeline = _pipeline(guard_context, terms=["project falcon"])
    with pytest.raises(GuardrailBlockedError) as blocked:
        await pipeline.apply(text, Stage.OUTPUT)
    assert str(blocked.value) == "blocked_terms: blocked term in output"
    assert "falcon" not in str(blocked.value).lower()


@pytest.mark.parametrize(
    "text", ["Project Falconry is a hobby", "subproject falcon", "project-falcons"]
)
async def test_a_term_inside_a_longer_word_is_not_a_match(
    text: str, guard_context: GuardContext
) -> None:
    pipeline = _pipeline(guard_context, terms=["project falcon"])
    assert await pipeline.apply(text, Stage.OUTPUT) == text


async def test_patterns_match_case_insensitively(guard_context: GuardContext) -> None:
    pipeline = _pipeline(guard_context, patterns=[r"\bticket-\d{4}\b"], action="redact")
    text = "See TICKET-1234 and ticket-99"
    assert await pipeline.apply(text, Stage.INPUT) == "See [blocked] and ticket-99"


async def test_redaction_uses_the_configured_label(guard_context: GuardContext) -> None:
    pipeline = _pipeline(guard_context, terms=["darn"], action="redact", label="censored")
    assert await pipeline.apply("Darn it, darn!", Stage.OUTPUT) == "[censored] it, [censored]!"


async def test_a_stage_not_asked_for_is_not_checked(guard_context: GuardContext) -> None:
    pipeline = _pipeline(guard_context, terms=["darn"], stages=["output"])
    assert await pipeline.apply("darn", Stage.INPUT) == "darn"


def test_a_pattern_that_does_not_compile_is_refused() -> None:
    with pytest.raises(ValueError, match="invalid pattern"):
        BlockedTermsConfig.model_validate({"type": "blocked_terms", "patterns": ["(unclosed"]})
