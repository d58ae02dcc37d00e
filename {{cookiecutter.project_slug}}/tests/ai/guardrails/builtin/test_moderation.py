"""Moderation needs a provider with a moderation endpoint; one without is refused up front."""

from __future__ import annotations

import pytest

from app.ai.guardrails.base import GuardContext
from app.ai.guardrails.catalog import default_registry
from app.ai.guardrails.validation import checked_guardrails
from app.core.errors import UnprocessableError


def test_a_provider_without_moderation_is_a_configuration_error(
    guard_context: GuardContext,
) -> None:
    with pytest.raises(UnprocessableError, match="'scripted' has none"):
        checked_guardrails(
            [{"type": "moderation"}],
            registry=default_registry(),
            providers=guard_context.providers,
            agent_provider="scripted",
        )


def test_moderation_can_only_block(guard_context: GuardContext) -> None:
    with pytest.raises(UnprocessableError, match="action"):
        default_registry().parse([{"type": "moderation", "action": "redact"}])
