"""Gemini embeddings through the real google-genai SDK, with the vendor replaced by a fake server."""

from __future__ import annotations

import numpy as np
import pytest

from app.ai.knowledge.embedders.base import EmbeddingError
from app.ai.knowledge.embedders.gemini import GeminiEmbedder
from app.ai.providers.gemini import GeminiProvider
from tests.ai.providers.conftest import FakeServer


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


def provider(server: FakeServer) -> GeminiProvider:
    return GeminiProvider(api_key="gm-test", timeout=5, max_retries=0, http_client=server.client())


async def test_texts_go_in_batches_to_batch_embed_contents(server: FakeServer) -> None:
    server.reply(json_body={"embeddings": [{"values": [3.0, 4.0]}, {"values": [0.0, 1.0]}]})
    server.reply(json_body={"embeddings": [{"values": [2.0, 0.0]}]})
    embedder = GeminiEmbedder(provider(server), dimension=2, batch_size=2)

    vectors = await embedder.embed(["one", "two", "three"])

    assert server.requests[0].url.path.endswith("/models/gemini-embedding-001:batchEmbedContents")
    sent = [
        [item["content"]["parts"][0]["text"] for item in server.body(i)["requests"]]
        for i in range(2)
    ]
    assert sent == [["one", "two"], ["three"]]
    np.testing.assert_allclose(np.stack(vectors), [[0.6, 0.8], [0.0, 1.0], [1.0, 0.0]], atol=1e-6)


async def test_the_default_model_and_its_published_size(server: FakeServer) -> None:
    embedder = GeminiEmbedder(provider(server))

    assert (embedder.model, embedder.dimension) == ("gemini-embedding-001", 3072)
    assert GeminiEmbedder(provider(server), batch_size=500).batch_size == 100


async def test_vendor_errors_become_embedding_errors(server: FakeServer) -> None:
    server.reply(
        403, json_body={"error": {"code": 403, "message": "bad key", "status": "PERMISSION_DENIED"}}
    )
    embedder = GeminiEmbedder(provider(server), dimension=2)

    with pytest.raises(EmbeddingError, match="authentication"):
        await embedder.embed(["text"])


async def test_a_missing_vector_is_an_embedding_error(server: FakeServer) -> None:
    server.reply(json_body={"embeddings": [{"values": [1.0, 0.0]}]})
    embedder = GeminiEmbedder(provider(server), dimension=2)

    with pytest.raises(EmbeddingError, match="asked for 2 embeddings, got 1"):
        await embedder.embed(["one", "two"])
