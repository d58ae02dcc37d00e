"""Embeddings through a chat provider's own SDK client, with its retries, timeouts and errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from app.ai.knowledge.embedders.base import Embedder, EmbeddingError
from app.ai.providers.base import Provider, ProviderError


class ProviderEmbedder(Embedder):
    """Borrows a provider (it is built and closed by the provider factory) to embed texts."""

    def __init__(self, provider: Provider, *, model: str, dimension: int, batch_size: int) -> None:
        super().__init__(model=model, dimension=dimension, batch_size=batch_size)
        self.provider = provider

    async def _embed_batch(self, texts: list[str]) -> Sequence[Sequence[float]]:
        try:
            return await self.provider.embed(texts, model=self.model)
        except ProviderError as exc:
            raise EmbeddingError(str(exc)) from exc


def known_dimension(model: str, sizes: Mapping[str, int], configured: int) -> int:
    """The configured size, else the model's published one (an Ollama `:tag` is ignored).

    Raises:
        ValueError: neither is known, so the size must be configured.
    """
    if configured:
        return configured
    size = sizes.get(model) or sizes.get(model.split(":", 1)[0])
    if size is None:
        raise ValueError(
            f"the size of embedding model {model!r} is not known: set EMBEDDING_DIMENSION"
        )
    return size
