"""What every embedder gets from the base class: batching, size checks, unit vectors."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from app.ai.knowledge.embedders.base import Embedder, EmbeddingError


class Scripted(Embedder):
    """Answers each batch with vectors computed from the text length, and records batches."""

    name = "scripted"

    def __init__(self, *, batch_size: int = 2, reply: list[list[float]] | None = None) -> None:
        super().__init__(model="scripted-1", dimension=2, batch_size=batch_size)
        self.batches: list[list[str]] = []
        self.reply = reply

    async def _embed_batch(self, texts: list[str]) -> Sequence[Sequence[float]]:
        self.batches.append(texts)
        return self.reply if self.reply is not None else [[len(t), 1.0] for t in texts]


async def test_texts_are_sent_in_batches_and_answered_in_order() -> None:
    embedder = Scripted(batch_size=2)

    vectors = await embedder.embed(["a", "bb", "ccc", "dddd", "eeeee"])

    assert embedder.batches == [["a", "bb"], ["ccc", "dddd"], ["eeeee"]]
    assert len(vectors) == 5
    expected = np.array([3.0, 1.0]) / np.linalg.norm([3.0, 1.0])
    np.testing.assert_allclose(vectors[2], expected, rtol=1e-6)
    assert all(v.dtype == np.float32 for v in vectors)


async def test_no_texts_make_no_calls() -> None:
    embedder = Scripted()

    assert await embedder.embed([]) == []
    assert embedder.batches == []


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ([[1.0, 2.0]], "returned 1 vectors for 2 texts"),
        ([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]], "size 3, expected 2; set EMBEDDING_DIMENSION"),
        ([[float("nan"), 1.0], [1.0, 1.0]], "NaN"),
    ],
)
async def test_wrong_answers_are_errors(reply: list[list[float]], message: str) -> None:
    with pytest.raises(EmbeddingError, match=message):
        await Scripted(reply=reply).embed(["a", "b"])


async def test_a_zero_vector_stays_zero() -> None:
    [vector] = await Scripted(reply=[[0.0, 0.0]]).embed(["a"])

    assert not vector.any()


def test_sizes_must_be_positive() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        Scripted(batch_size=0)
