"""The embedder the settings choose (`EMBEDDING_PROVIDER`), built from the catalog."""

from __future__ import annotations

from app.ai.knowledge.embedders.base import Embedder
from app.ai.knowledge.embedders.catalog import EMBEDDERS
from app.ai.knowledge.embedders.registry import EmbedderConfigError, EmbedderRegistry
from app.ai.providers.factory import ProviderFactory
from app.core.config import Settings


def build_embedder(
    settings: Settings, providers: ProviderFactory, registry: EmbedderRegistry | None = None
) -> Embedder:
    """The embedder `settings.embedding_provider` names; `registry` defaults to the catalog.

    Raises:
        EmbedderConfigError: unknown name, or a model whose size is not known.
        ProviderNotConfiguredError: the vendor's provider lacks its key.
    """
    entry = (registry or EmbedderRegistry(EMBEDDERS)).entry(settings.embedding_provider)
    try:
        return entry.load(settings, providers)
    except ValueError as exc:
        raise EmbedderConfigError(f"Embedder {entry.name!r}: {exc}") from exc
