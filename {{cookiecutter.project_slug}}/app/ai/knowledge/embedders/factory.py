"""Embedders by name (`EMBEDDING_PROVIDER`): a registry of lazy loaders.

Vendor embedders borrow the chat provider of the same name from the provider factory,
so one SDK client (keys, base URL, timeouts, retries) serves chat and embeddings.
"""

from __future__ import annotations

from collections.abc import Callable

from app.ai.knowledge.embedders.base import Embedder
from app.ai.providers.factory import ProviderFactory
from app.core.config import Settings

EmbedderLoader = Callable[[Settings, ProviderFactory], Embedder]


class EmbedderConfigError(ValueError):
    """The settings name an unknown embedder, or one that cannot be built as configured."""


class EmbedderRegistry:
    """Embedder names to loaders; a name can be registered once."""

    def __init__(self) -> None:
        self._loaders: dict[str, EmbedderLoader] = {}

    def register(self, name: str, loader: EmbedderLoader) -> None:
        """Add an embedder; importing a module that calls this makes the name usable."""
        if name in self._loaders:
            raise ValueError(f"An embedder named {name!r} is already registered")
        self._loaders[name] = loader

    def names(self) -> list[str]:
        return list(self._loaders)

    def build(self, settings: Settings, providers: ProviderFactory) -> Embedder:
        """The embedder `settings.embedding_provider` names, built from the settings.

        Raises:
            EmbedderConfigError: unknown name, or a model whose size is not known.
            ProviderNotConfiguredError: the vendor's provider lacks its key.
        """
        name = settings.embedding_provider
        loader = self._loaders.get(name)
        if loader is None:
            known = ", ".join(self.names())
            raise EmbedderConfigError(f"Unknown embedder {name!r}; known embedders: {known}")
        try:
            return loader(settings, providers)
        except ValueError as exc:
            raise EmbedderConfigError(f"Embedder {name!r}: {exc}") from exc


registry = EmbedderRegistry()
register = registry.register
build_embedder = registry.build


def _load_hashing(settings: Settings, _providers: ProviderFactory) -> Embedder:
    from app.ai.knowledge.embedders.hashing import DEFAULT_DIMENSION, MODEL, HashingEmbedder

    if settings.embedding_model not in ("", MODEL):
        raise ValueError(f"the hashing embedder has one model, {MODEL!r}")
    return HashingEmbedder(
        dimension=settings.embedding_dimension or DEFAULT_DIMENSION,
        batch_size=settings.embedding_batch_size,
    )


register("hashing", _load_hashing)
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


register("openai", _load_openai)
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


register("gemini", _load_gemini)
{%- endif %}
