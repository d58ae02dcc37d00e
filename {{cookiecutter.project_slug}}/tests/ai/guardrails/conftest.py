"""Fixtures for the guardrail tests: a context whose providers are the configured ones."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from app.ai.guardrails.base import GuardContext
from app.ai.providers.factory import ProviderFactory
from app.core.config import Settings


@pytest.fixture(autouse=True)
def _clean_state() -> None:
    """Checks touch no database, so the suite-wide table cleanup is skipped."""


@pytest.fixture
async def guard_context(settings: Settings) -> AsyncIterator[GuardContext]:
    """What a check sees in a run of an agent on the scripted provider."""
    providers = ProviderFactory(settings)
    yield GuardContext(providers=providers, agent_provider="scripted")
    await providers.aclose()
