"""Gemini embeddings through the Gemini chat adapter's google-genai client."""

from __future__ import annotations

from app.ai.knowledge.embedders.provider import ProviderEmbedder, known_dimension
from app.ai.providers.gemini import DEFAULT_EMBEDDING_MODEL, GeminiProvider

# Published output sizes; any other model needs EMBEDDING_DIMENSION.
DIMENSIONS = {
    "gemini-embedding-001": 3072,
    "text-embedding-004": 768,
}
# batchEmbedContents takes at most 100 texts per request.
MAX_BATCH_SIZE = 100


class GeminiEmbedder(ProviderEmbedder):
    """Vectors from `batchEmbedContents` through the Gemini provider's client."""

    name = "gemini"

    def __init__(
        self,
        provider: GeminiProvider,
        *,
        model: str = "",
        dimension: int = 0,
        batch_size: int = 64,
    ) -> None:
        model = model or DEFAULT_EMBEDDING_MODEL
        super().__init__(
            provider,
            model=model,
            dimension=known_dimension(model, DIMENSIONS, dimension),
            batch_size=min(batch_size, MAX_BATCH_SIZE),
        )
