"""A cap on how long a text may be: a cheap bound on cost and on runaway output."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.ai.guardrails.base import Finding, GuardContext, Guardrail, GuardrailConfig, Stage


class MaxLengthConfig(GuardrailConfig):
    """At most `max_chars` characters; over it, the run is blocked (there is nothing to redact)."""

    type: Literal["max_length"] = "max_length"
    action: Literal["block"] = "block"
    max_chars: int = Field(ge=1, le=1_000_000)


class MaxLengthGuardrail(Guardrail[MaxLengthConfig]):
    """Blocks a text longer than the agent allows."""

    config = MaxLengthConfig

    def window(self) -> int | None:
        """A stream is blocked as soon as it grows past the cap; nothing needs holding."""
        return 0

    async def find(self, text: str, stage: Stage, context: GuardContext) -> list[Finding]:
        """The part past the cap, when there is one."""
        limit = self.settings.max_chars
        if len(text) <= limit:
            return []
        return [Finding(limit, len(text), f"longer than {limit} characters", "truncated")]
