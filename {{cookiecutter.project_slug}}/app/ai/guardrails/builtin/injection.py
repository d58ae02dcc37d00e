"""Prompt injection in tool results: text fetched from elsewhere that tries to steer the model.

A web page or a file a tool reads may say "ignore previous instructions" or pretend to
be a system message. Blocking fails the run; redacting replaces the phrase with
`[removed instruction]`, so the model reads the rest as data without the order in it.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field

from app.ai.guardrails.base import (
    Action,
    Finding,
    GuardContext,
    Guardrail,
    GuardrailConfig,
    Stage,
)

_PHRASES = [
    r"(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+|the\s+)?(?:previous|prior|above"
    r"|earlier|preceding|your)\s+(?:instructions|prompts?|rules|directions|context)",
    r"you\s+are\s+now\s+(?:in\s+)?(?:developer|dan|jailbreak|unrestricted)\b(?:\s+mode)?",
    r"(?:reveal|print|show|repeat)\s+(?:your|the)\s+(?:system\s+prompt|hidden\s+instructions)",
    r"new\s+instructions\s*:",
]
# Markers that pretend a new turn starts: chat-template tokens and role headers.
_MARKERS = [
    r"<\|?\s*(?:im_start|im_end|system|endoftext)\s*\|?>",
    r"\[/?(?:INST|SYS)\]",
    r"<<\s*/?SYS\s*>>",
    r"^\s*#{0,3}\s*(?:system|assistant)\s*:",
]
INJECTION = re.compile(
    "|".join(f"(?:{p})" for p in _PHRASES + _MARKERS), re.IGNORECASE | re.MULTILINE
)


class PromptInjectionConfig(GuardrailConfig):
    """Read only tool results by default, where text from outside reaches the model."""

    type: Literal["prompt_injection"] = "prompt_injection"
    action: Action = "block"
    stages: tuple[Stage, ...] = Field(default=(Stage.TOOL_RESULT,), min_length=1)


class PromptInjectionGuardrail(Guardrail[PromptInjectionConfig]):
    """Finds instruction overrides and role-override markers."""

    config = PromptInjectionConfig

    def window(self) -> int | None:
        """The longest phrase the heuristic knows."""
        return 96

    async def find(self, text: str, stage: Stage, context: GuardContext) -> list[Finding]:
        """Every phrase or marker, earliest first."""
        return [
            Finding(match.start(), match.end(), "possible prompt injection", "removed instruction")
            for match in INJECTION.finditer(text)
        ]
