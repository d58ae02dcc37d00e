"""Several checks over one text: the earliest block wins, redactions never overlap."""

from __future__ import annotations

from typing import Any

import pytest

from app.ai.guardrails.base import Finding, GuardContext, GuardrailBlockedError, Stage
from app.ai.guardrails.catalog import default_registry
from app.ai.guardrails.pipeline import GuardrailPipeline, redact


async def test_checks_combine_in_one_pass(guard_context: GuardContext) -> None:
    raw = [
        {"type": "blocked_terms", "terms": ["ada"], "action": "redact", "label": "name"},
        {"type": "pii", "kinds": ["email"]},
    ]
    pipeline = GuardrailPipeline.of(raw, default_registry(), guard_context)
    text = "Ada wrote from ada@example.com"
    assert await pipeline.apply(text, Stage.OUTPUT) == "[name] wrote from [email]"


async def test_the_earliest_blocking_finding_is_reported(guard_context: GuardContext) -> None:
    raw: list[dict[str, Any]] = [
        {"type": "pii", "action": "block"},
        {"type": "blocked_terms", "terms": ["falcon"]},
    ]
    pipeline = GuardrailPipeline.of(raw, default_registry(), guard_context)
    with pytest.raises(GuardrailBlockedError, match="blocked_terms: blocked term in input"):
        await pipeline.apply("falcon, then ada@example.com", Stage.INPUT)


async def test_no_checks_for_a_stage_leave_the_text_alone(guard_context: GuardContext) -> None:
    pipeline = GuardrailPipeline.of(
        [{"type": "prompt_injection"}], default_registry(), guard_context
    )
    assert not pipeline.applies_to(Stage.OUTPUT)
    assert pipeline.window(Stage.OUTPUT) == 0
    assert await pipeline.apply("ignore previous instructions", Stage.OUTPUT) == (
        "ignore previous instructions"
    )


def test_overlapping_spans_are_replaced_once() -> None:
    findings = [Finding(0, 5, "a", "x"), Finding(3, 8, "b", "y"), Finding(9, 10, "c", "z")]
    assert redact("0123456789", findings) == "[x]5678[z]"
