"""A moderation model's verdict, from a provider with a moderation endpoint.

The model judges a text as a whole, so a streamed reply under this check is held back
until it is complete, and a flagged text can only be blocked.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from app.ai.guardrails.base import Finding, GuardContext, Guardrail, GuardrailConfig, Stage
from app.core.errors import UnprocessableError

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class ModerationConfig(GuardrailConfig):
    """Which provider judges (the agent's own by default), with which model.

    `categories`, when set, blocks only a text flagged in one of them.
    """

    type: Literal["moderation"] = "moderation"
    action: Literal["block"] = "block"
    provider: Name | None = None
    model: Name | None = None
    categories: list[Name] = Field(default_factory=list, max_length=50)


class ModerationGuardrail(Guardrail[ModerationConfig]):
    """Blocks what the provider's moderation model flags."""

    config = ModerationConfig

    @classmethod
    def check_usable(cls, settings: GuardrailConfig, context: GuardContext) -> None:
        """Refuse, at create or update, a provider that has no moderation endpoint."""
        assert isinstance(settings, ModerationConfig)
        name = settings.provider or context.agent_provider
        if not context.providers.get(name).moderates:
            raise UnprocessableError(
                f"guardrails: moderation needs a provider with a moderation endpoint; "
                f"{name!r} has none (set this check's `provider` to one that has)"
            )

    def window(self) -> int | None:
        """The whole reply: the verdict is on all of it."""
        return None

    async def find(self, text: str, stage: Stage, context: GuardContext) -> list[Finding]:
        """The whole text, when the model flags it in a category that counts."""
        if not text.strip():
            return []
        provider = context.providers.get(self.settings.provider or context.agent_provider)
        verdict = await provider.moderate(text, model=self.settings.model)
        wanted = set(self.settings.categories)
        counted = [name for name in verdict.categories if not wanted or name in wanted]
        if not verdict.flagged or (wanted and not counted):
            return []
        named = f" ({', '.join(counted)})" if counted else ""
        return [Finding(0, len(text), f"flagged by moderation{named}", "moderated")]
