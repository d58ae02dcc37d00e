"""OpenAI embeddings, and any OpenAI-compatible server's (Ollama, vLLM), via the chat adapter."""

from __future__ import annotations

from app.ai.knowledge.embedders.provider import ProviderEmbedder, known_dimension
from app.ai.providers.openai import DEFAULT_EMBEDDING_MODEL, OpenAIProvider

# Published output sizes; any other model needs EMBEDDING_DIMENSION.
DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
    # Common local models served by Ollama or vLLM.
    "nomic-embed-text": 768,
    "mxbai-embed-large": 1024,
    "all-minilm": 384,
    "bge-m3": 1024,
}
# The embeddings endpoint takes at most 2048 inputs per request.
MAX_BATCH_SIZE = 2048


class OpenAIEmbedder(ProviderEmbedder):
    """Vectors from `/v1/embeddings` through the OpenAI provider's client."""

    name = "openai"

    def __init__(
        self,
        provider: OpenAIProvider,
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
