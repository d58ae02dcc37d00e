"""Checks registered by class: a user's own check is configured, validated and run."""

from __future__ import annotations

from typing import Any, Literal

import pytest

from app.ai.guardrails.base import (
    Finding,
    GuardContext,
    Guardrail,
    GuardrailBlockedError,
    GuardrailConfig,
    Stage,
)
from app.ai.guardrails.catalog import BUILTIN_GUARDRAILS, default_registry
from app.ai.guardrails.pipeline import GuardrailPipeline
from app.ai.guardrails.registry import DuplicateGuardrailError, GuardrailRegistry
from app.ai.guardrails.validation import checked_guardrails
from app.core.errors import UnprocessableError


class ShoutingConfig(GuardrailConfig):
    """Words in capitals longer than `min_length` letters."""

    type: Literal["shouting"] = "shouting"
    min_length: int = 4


class ShoutingGuardrail(Guardrail[ShoutingConfig]):
    """Finds shouted words."""

    config = ShoutingConfig

    async def find(self, text: str, stage: Stage, context: GuardContext) -> list[Finding]:
        found, position = [], 0
        for word in text.split(" "):
            if len(word) >= self.settings.min_length and word.isupper():
                found.append(Finding(position, position + len(word), "shouting", "calm"))
            position += len(word) + 1
        return found


def _registry() -> GuardrailRegistry:
    return GuardrailRegistry([*BUILTIN_GUARDRAILS, ShoutingGuardrail])


async def test_a_registered_check_runs_from_an_agents_config(
    guard_context: GuardContext,
) -> None:
    raw: list[dict[str, Any]] = [
        {"type": "shouting", "action": "redact"},
        {"type": "pii", "kinds": ["email"]},
    ]
    pipeline = GuardrailPipeline.of(raw, _registry(), guard_context)
    checked = await pipeline.apply("Write to ada@example.com LOUDLY please", Stage.INPUT)
    assert checked == "Write to [email] [calm] please"


async def test_a_registered_check_can_block(guard_context: GuardContext) -> None:
    pipeline = GuardrailPipeline.of([{"type": "shouting"}], _registry(), guard_context)
    with pytest.raises(GuardrailBlockedError, match="shouting: shouting in output"):
        await pipeline.apply("STOP that", Stage.OUTPUT)


def test_configs_are_validated_per_type(guard_context: GuardContext) -> None:
    registry = _registry()
    stored = checked_guardrails(
        [{"type": "shouting", "min_length": 6}],
        registry=registry,
        providers=guard_context.providers,
        agent_provider="scripted",
    )
    assert stored == [
        {"type": "shouting", "action": "block", "stages": ["input", "output"], "min_length": 6}
    ]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"type": "shouting", "min_length": "many"}, "guardrails.0.shouting.min_length"),
        ({"type": "whispering"}, "guardrails.0"),
        ({"type": "pii", "kinds": ["iban"]}, "guardrails.0.pii.kinds"),
        ({"type": "pii", "colour": "red"}, "guardrails.0.pii.colour"),
        ({"type": "pii", "stages": []}, "guardrails.0.pii.stages"),
    ]
    for bad, named in cases:
        with pytest.raises(UnprocessableError, match=named):
            registry.parse([bad])


def test_a_type_registered_twice_is_refused() -> None:
    with pytest.raises(DuplicateGuardrailError):
        GuardrailRegistry([ShoutingGuardrail, ShoutingGuardrail])


def test_the_default_registry_offers_every_builtin() -> None:
    names: list[Any] = default_registry().names()
    assert names[:5] == ["max_length", "blocked_terms", "pii", "prompt_injection", "moderation"]
