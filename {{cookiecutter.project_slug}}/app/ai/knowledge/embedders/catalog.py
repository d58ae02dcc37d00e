"""Every embedder this service offers, one entry each, with how each is built from settings.

Vendor embedders borrow the chat provider of the same name from the provider factory,
so one SDK client (key, base URL, timeouts, retries) serves chat and embeddings. A
loader imports its module inside the function, so an SDK loads only when it is used.
"""

from __future__ import annotations

from app.ai.knowledge.embedders.base import Embedder
from app.ai.knowledge.embedders.registry import EmbedderEntry
from app.ai.providers.factory import ProviderFactory
from app.core.config import Settings


def _load_hashing(settings: Settings, _providers: ProviderFactory) -> Embedder:
    from app.ai.knowledge.embedders.hashing import DEFAULT_DIMENSION, MODEL, HashingEmbedder

    if settings.embedding_model not in ("", MODEL):
        raise ValueError(f"the hashing embedder has one model, {MODEL!r}")
    return HashingEmbedder(
        dimension=settings.embedding_dimension or DEFAULT_DIMENSION,
        batch_size=settings.embedding_batch_size,
    )
{%- if cookiecutter.use_openai %}


def _load_openai(settings: Settings, providers: ProviderFactory) -> Embedder:
    from app.ai.knowledge.embedders.openai import OpenAIEmbedder
    from app.ai.providers.openai import OpenAIProvider

    provider = providers.get("openai")
    if not isinstance(provider, OpenAIProvider):
        raise ValueError("provider 'openai' is not the OpenAI adapter")
    return OpenAIEmbedder(
        provider,
        model=settings.embedding_model,
        dimension=settings.embedding_dimension,
        batch_size=settings.embedding_batch_size,
    )
{%- endif %}
{%- if cookiecutter.use_gemini %}


def _load_gemini(settings: Settings, providers: ProviderFactory) -> Embedder:
    from app.ai.knowledge.embedders.gemini import GeminiEmbedder
    from app.ai.providers.gemini import GeminiProvider

    provider = providers.get("gemini")
    if not isinstance(provider, GeminiProvider):
        raise ValueError("provider 'gemini' is not the Gemini adapter")
    return GeminiEmbedder(
        provider,
        model=settings.embedding_model,
        dimension=settings.embedding_dimension,
        batch_size=settings.embedding_batch_size,
    )
{%- endif %}


EMBEDDERS: list[EmbedderEntry] = [
    EmbedderEntry("hashing", _load_hashing),
{%- if cookiecutter.use_openai %}
    EmbedderEntry("openai", _load_openai),
{%- endif %}
{%- if cookiecutter.use_gemini %}
    EmbedderEntry("gemini", _load_gemini),
{%- endif %}
]
