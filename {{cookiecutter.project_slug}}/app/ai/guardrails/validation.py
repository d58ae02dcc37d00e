"""An agent's `guardrails` checked when it is saved: each config valid and able to run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from app.ai.guardrails.base import GuardContext
from app.ai.guardrails.registry import GuardrailRegistry
from app.ai.providers.factory import ProviderFactory


def checked_guardrails(
    raw: Sequence[Mapping[str, Any]],
    *,
    registry: GuardrailRegistry,
    providers: ProviderFactory,
    agent_provider: str,
) -> list[dict[str, Any]]:
    """The configs as they will be stored (defaults filled in).

    Raises:
        UnprocessableError: an unknown type, a bad option, or a check that could not run
            for this agent, such as moderation on a provider without a moderation endpoint.
    """
    configs = registry.parse(raw)
    context = GuardContext(providers=providers, agent_provider=agent_provider)
    for config in configs:
        registry.check_class(config.type).check_usable(config, context)
    return registry.dump(configs)
