"""Your own checks, one class each; the default registry offers them after the built-ins."""

from __future__ import annotations

from typing import Any

from app.ai.guardrails.base import Guardrail

CUSTOM_GUARDRAILS: list[type[Guardrail[Any]]] = [
    # One `YourGuardrail` class per check of yours; AGENTS.md ("Add a guardrail") shows one.
]
