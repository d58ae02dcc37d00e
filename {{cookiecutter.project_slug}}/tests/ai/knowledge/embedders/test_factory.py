"""Embedders built from settings; vendor ones borrow the provider factory's client."""

from __future__ import annotations

from typing import Any

import pytest

from app.ai.knowledge.embedders.factory import build_embedder
from app.ai.knowledge.embedders.hashing import HashingEmbedder
{%- if cookiecutter.use_openai or cookiecutter.use_gemini %}
from app.ai.knowledge.embedders.provider import ProviderEmbedder
{%- endif %}
from app.ai.knowledge.embedders.registry import EmbedderConfigError, EmbedderEntry, EmbedderRegistry
from app.ai.providers.factory import ProviderFactory
{%- if cookiecutter.use_openai or cookiecutter.use_gemini %}
from app.ai.providers.registry import ProviderNotConfiguredError
{%- endif %}
from app.core.config import Settings


def settings(**values: Any) -> Settings:
    """Settings from these values alone, whatever the environment holds."""
    return Settings(_env_file=None, environment="test", **values)


def build(**values: Any) -> object:
    configured = settings(**values)
    return build_embedder(configured, ProviderFactory(configured))


def test_the_default_is_the_offline_hashing_embedder() -> None:
    embedder = build()

    assert isinstance(embedder, HashingEmbedder)
    assert (embedder.model, embedder.dimension, embedder.batch_size) == ("hashing-v1", 768, 64)


def test_the_hashing_size_and_batch_follow_the_settings() -> None:
    embedder = build(embedding_dimension=256, embedding_batch_size=8)

    assert isinstance(embedder, HashingEmbedder)
    assert (embedder.dimension, embedder.batch_size) == (256, 8)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"embedding_provider": "nope"}, "Unknown embedder 'nope'; known embedders: hashing"),
        ({"embedding_model": "other"}, "the hashing embedder has one model"),
    ],
)
def test_impossible_settings_are_explained(values: dict[str, object], message: str) -> None:
    with pytest.raises(EmbedderConfigError, match=message):
        build(**values)


def test_a_registry_refuses_a_name_twice() -> None:
    entry = EmbedderEntry("hashing", lambda _settings, _providers: HashingEmbedder())

    with pytest.raises(ValueError, match="already registered"):
        EmbedderRegistry([entry, entry])


def test_a_registry_of_its_own_builds_its_own_embedders() -> None:
    small = EmbedderEntry("small", lambda _settings, _providers: HashingEmbedder(dimension=8))
    configured = settings(embedding_provider="small")

    embedder = build_embedder(configured, ProviderFactory(configured), EmbedderRegistry([small]))

    assert embedder.dimension == 8


def test_overlap_must_stay_below_the_chunk_size() -> None:
    with pytest.raises(ValueError, match="KNOWLEDGE_CHUNK_OVERLAP"):
        settings(knowledge_chunk_tokens=100, knowledge_chunk_overlap=100)
{%- if cookiecutter.use_openai %}


def test_openai_embeddings_reuse_the_openai_provider() -> None:
    configured = settings(embedding_provider="openai", openai_api_key="sk-test")
    providers = ProviderFactory(configured)

    embedder = build_embedder(configured, providers)

    assert isinstance(embedder, ProviderEmbedder)
    assert embedder.provider is providers.get("openai")
    assert (embedder.model, embedder.dimension) == ("text-embedding-3-small", 1536)


def test_openai_embeddings_need_the_openai_settings() -> None:
    with pytest.raises(ProviderNotConfiguredError, match="OPENAI_API_KEY"):
        build(embedding_provider="openai", openai_api_key=None, openai_base_url=None)


def test_a_local_model_of_unknown_size_asks_for_it() -> None:
    with pytest.raises(EmbedderConfigError, match="set EMBEDDING_DIMENSION"):
        build(
            embedding_provider="openai",
            openai_base_url="http://127.0.0.1:11434/v1",
            embedding_model="custom-embedder",
        )
{%- endif %}
{%- if cookiecutter.use_gemini %}


def test_gemini_embeddings_reuse_the_gemini_provider() -> None:
    configured = settings(embedding_provider="gemini", gemini_api_key="gm-test")
    providers = ProviderFactory(configured)

    embedder = build_embedder(configured, providers)

    assert isinstance(embedder, ProviderEmbedder)
    assert embedder.provider is providers.get("gemini")
    assert (embedder.model, embedder.dimension) == ("gemini-embedding-001", 3072)


def test_gemini_embeddings_need_the_gemini_key() -> None:
    with pytest.raises(ProviderNotConfiguredError, match="GEMINI_API_KEY"):
        build(embedding_provider="gemini", gemini_api_key=None)
{%- endif %}
