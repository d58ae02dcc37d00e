"""The built-in checks, then yours (`custom/catalog.py`): the registry every run uses."""

from __future__ import annotations

from functools import cache
from typing import Any

from app.ai.guardrails.base import Guardrail
from app.ai.guardrails.builtin.injection import PromptInjectionGuardrail
from app.ai.guardrails.builtin.length import MaxLengthGuardrail
from app.ai.guardrails.builtin.moderation import ModerationGuardrail
from app.ai.guardrails.builtin.pii import PiiGuardrail
from app.ai.guardrails.builtin.terms import BlockedTermsGuardrail
from app.ai.guardrails.custom.catalog import CUSTOM_GUARDRAILS
from app.ai.guardrails.registry import GuardrailRegistry

BUILTIN_GUARDRAILS: list[type[Guardrail[Any]]] = [
    MaxLengthGuardrail,
    BlockedTermsGuardrail,
    PiiGuardrail,
    PromptInjectionGuardrail,
    ModerationGuardrail,
]


@cache
def default_registry() -> GuardrailRegistry:
    """Every built-in check, then every custom one, built once per process."""
    return GuardrailRegistry([*BUILTIN_GUARDRAILS, *CUSTOM_GUARDRAILS])
