"""The length cap: a text at the cap passes, one past it is blocked."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.ai.guardrails.base import GuardContext, GuardrailBlockedError, Stage
from app.ai.guardrails.builtin.length import MaxLengthConfig, MaxLengthGuardrail
from app.ai.guardrails.pipeline import GuardrailPipeline


async def test_blocks_only_past_the_cap(guard_context: GuardContext) -> None:
    pipeline = GuardrailPipeline([MaxLengthGuardrail(MaxLengthConfig(max_chars=5))], guard_context)
    assert await pipeline.apply("12345", Stage.INPUT) == "12345"
    with pytest.raises(GuardrailBlockedError, match="max_length: longer than 5 characters"):
        await pipeline.apply("123456", Stage.INPUT)


def test_cannot_redact() -> None:
    with pytest.raises(ValidationError):
        MaxLengthConfig.model_validate({"type": "max_length", "max_chars": 5, "action": "redact"})
