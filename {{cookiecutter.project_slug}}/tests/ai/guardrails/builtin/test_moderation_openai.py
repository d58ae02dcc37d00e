"""Moderation through OpenAI's `/moderations`, on the real SDK with the network faked below it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.ai.guardrails.base import GuardContext, GuardrailBlockedError, Stage
from app.ai.guardrails.catalog import default_registry
from app.ai.guardrails.pipeline import GuardrailPipeline
from app.ai.guardrails.validation import checked_guardrails
from app.ai.providers.base import Provider, ProviderError, ProviderErrorKind
from app.ai.providers.catalog import PROVIDERS
from app.ai.providers.factory import ProviderFactory
from app.ai.providers.openai import OpenAIProvider
from app.ai.providers.registry import ProviderEntry, ProviderRegistry
from app.core.config import Settings
from tests.ai.providers.conftest import FakeServer


def _verdict(flagged: bool, *categories: str) -> dict[str, Any]:
    names = ["harassment", "hate", "self-harm", "sexual", "violence"]
    return {
        "id": "modr-1",
        "model": "omni-moderation-latest",
        "results": [
            {
                "flagged": flagged,
                "categories": {name: name in categories for name in names},
                "category_scores": {name: 0.9 if name in categories else 0.01 for name in names},
            }
        ],
    }


@pytest.fixture
def server() -> FakeServer:
    """OpenAI's stand-in, below the SDK."""
    return FakeServer()


@pytest.fixture
async def context(settings: Settings, server: FakeServer) -> AsyncIterator[GuardContext]:
    """An agent on the scripted provider, with OpenAI's SDK pointed at the fake server."""

    def load(_settings: Settings) -> Provider:
        return OpenAIProvider(
            api_key="sk-test", timeout=5.0, max_retries=0, http_client=server.client()
        )

    entries = [entry for entry in PROVIDERS if entry.name != "openai"]
    registry = ProviderRegistry([*entries, ProviderEntry("openai", load)])
    providers = ProviderFactory(settings, registry)
    yield GuardContext(providers=providers, agent_provider="scripted")
    await providers.aclose()


def _pipeline(context: GuardContext, **options: Any) -> GuardrailPipeline:
    raw = [{"type": "moderation", "provider": "openai", **options}]
    return GuardrailPipeline.of(raw, default_registry(), context)


async def test_a_flagged_text_is_blocked_with_its_categories(
    context: GuardContext, server: FakeServer
) -> None:
    server.reply(json_body=_verdict(True, "harassment", "violence"))

    with pytest.raises(GuardrailBlockedError) as blocked:
        await _pipeline(context).apply("I will find you and hurt you", Stage.INPUT)

    assert str(blocked.value) == (
        "moderation: flagged by moderation (harassment, violence) in input"
    )
    assert server.requests[0].url.path.endswith("/moderations")
    assert server.body() == {
        "input": "I will find you and hurt you",
        "model": "omni-moderation-latest",
    }


async def test_a_clean_text_passes_unchanged(context: GuardContext, server: FakeServer) -> None:
    server.reply(json_body=_verdict(False))
    text = "What is the capital of Portugal?"
    assert await _pipeline(context, model="text-moderation-stable").apply(text, Stage.INPUT) == text
    assert server.body()["model"] == "text-moderation-stable"


async def test_only_the_chosen_categories_block(context: GuardContext, server: FakeServer) -> None:
    server.reply(json_body=_verdict(True, "violence"))
    text = "The film has a sword fight"
    assert await _pipeline(context, categories=["sexual"]).apply(text, Stage.OUTPUT) == text


async def test_an_outage_is_a_provider_error(context: GuardContext, server: FakeServer) -> None:
    server.reply(503, json_body={"error": {"message": "overloaded"}})
    with pytest.raises(ProviderError) as failed:
        await _pipeline(context).apply("hello", Stage.INPUT)
    assert failed.value.kind is ProviderErrorKind.UNAVAILABLE


def test_an_agent_may_moderate_through_openai(context: GuardContext) -> None:
    stored = checked_guardrails(
        [{"type": "moderation", "provider": "openai"}],
        registry=default_registry(),
        providers=context.providers,
        agent_provider="scripted",
    )
    assert stored[0]["provider"] == "openai"
