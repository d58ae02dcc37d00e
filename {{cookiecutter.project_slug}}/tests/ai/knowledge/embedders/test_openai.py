"""OpenAI embeddings through the real SDK, with the vendor replaced by a fake server."""

from __future__ import annotations

import base64
import struct

import numpy as np
import pytest

from app.ai.knowledge.embedders.base import EmbeddingError
from app.ai.knowledge.embedders.openai import OpenAIEmbedder
from app.ai.providers.openai import OpenAIProvider
from tests.ai.providers.conftest import FakeServer


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


def provider(server: FakeServer, *, base_url: str | None = None) -> OpenAIProvider:
    return OpenAIProvider(
        api_key=None if base_url else "sk-test",
        base_url=base_url,
        timeout=5,
        max_retries=0,
        http_client=server.client(),
    )


def embeddings(*vectors: list[float]) -> dict[str, object]:
    """An embeddings reply, vectors base64-encoded as the API sends them to the SDK."""
    return {
        "object": "list",
        "model": "text-embedding-3-small",
        "data": [
            {
                "object": "embedding",
                "index": index,
                "embedding": base64.b64encode(struct.pack(f"<{len(v)}f", *v)).decode(),
            }
            for index, v in enumerate(vectors)
        ],
        "usage": {"prompt_tokens": 3, "total_tokens": 3},
    }


async def test_texts_go_in_batches_to_the_embeddings_endpoint(server: FakeServer) -> None:
    server.reply(json_body=embeddings([3.0, 4.0], [1.0, 0.0]))
    server.reply(json_body=embeddings([0.0, 2.0]))
    embedder = OpenAIEmbedder(
        provider(server), model="text-embedding-3-small", dimension=2, batch_size=2
    )

    vectors = await embedder.embed(["one", "two", "three"])

    assert [server.body(i)["input"] for i in range(2)] == [["one", "two"], ["three"]]
    assert {server.body(i)["model"] for i in range(2)} == {"text-embedding-3-small"}
    assert str(server.requests[0].url) == "https://api.openai.com/v1/embeddings"
    np.testing.assert_allclose(np.stack(vectors), [[0.6, 0.8], [1.0, 0.0], [0.0, 1.0]], atol=1e-6)


async def test_a_local_server_model_needs_its_size_configured(server: FakeServer) -> None:
    local = provider(server, base_url="http://127.0.0.1:11434/v1")

    with pytest.raises(ValueError, match="EMBEDDING_DIMENSION"):
        OpenAIEmbedder(local, model="my-own-embedder")

    known = OpenAIEmbedder(local, model="nomic-embed-text:latest")
    configured = OpenAIEmbedder(local, model="my-own-embedder", dimension=3)
    assert (known.dimension, configured.dimension) == (768, 3)


async def test_the_default_model_and_its_published_size(server: FakeServer) -> None:
    embedder = OpenAIEmbedder(provider(server))

    assert (embedder.model, embedder.dimension) == ("text-embedding-3-small", 1536)


async def test_vectors_of_another_size_are_refused(server: FakeServer) -> None:
    server.reply(json_body=embeddings([1.0, 2.0, 3.0]))
    embedder = OpenAIEmbedder(provider(server), model="text-embedding-3-small", dimension=2)

    with pytest.raises(EmbeddingError, match="size 3, expected 2"):
        await embedder.embed(["text"])


async def test_vendor_errors_become_embedding_errors(server: FakeServer) -> None:
    server.reply(429, json_body={"error": {"message": "slow down", "type": "rate_limit"}})
    embedder = OpenAIEmbedder(provider(server), dimension=2)

    with pytest.raises(EmbeddingError, match="rate_limited"):
        await embedder.embed(["text"])
