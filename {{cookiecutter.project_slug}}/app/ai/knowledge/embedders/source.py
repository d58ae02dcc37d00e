"""The service's one embedder, built on first use so a vendor's SDK loads only when needed."""

from __future__ import annotations

from app.ai.knowledge.embedders.base import Embedder
from app.ai.knowledge.embedders.factory import build_embedder
from app.ai.knowledge.embedders.registry import EmbedderConfigError
from app.ai.providers.factory import ProviderFactory
from app.ai.providers.registry import ProviderNotConfiguredError
from app.core.config import Settings
from app.core.errors import ServiceUnavailableError


class EmbedderUnavailableError(ServiceUnavailableError):
    """EMBEDDING_PROVIDER names an embedder this service cannot build as configured."""


class EmbedderSource:
    """Builds the configured embedder once and shares it between the API and the tools."""

    def __init__(self, settings: Settings, providers: ProviderFactory) -> None:
        self._settings = settings
        self._providers = providers
        self._embedder: Embedder | None = None

    def get(self) -> Embedder:
        """The embedder EMBEDDING_PROVIDER names.

        Raises:
            EmbedderUnavailableError: it is unknown, or its provider lacks its settings.
        """
        if self._embedder is None:
            try:
                self._embedder = build_embedder(self._settings, self._providers)
            except (EmbedderConfigError, ProviderNotConfiguredError) as exc:
                raise EmbedderUnavailableError(
                    f"Embeddings are not available: {exc}", retry_after=60
                ) from None
        return self._embedder

    async def aclose(self) -> None:
        """Release the embedder, if one was built; its provider closes with the factory."""
        embedder, self._embedder = self._embedder, None
        if embedder is not None:
            await embedder.aclose()
