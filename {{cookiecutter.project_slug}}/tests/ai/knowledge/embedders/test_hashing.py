"""The offline hashing embedder: deterministic, lexical, unit length."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from app.ai.knowledge.embedders.hashing import DEFAULT_DIMENSION, MODEL, HashingEmbedder

PROJECT_ROOT = Path(__file__).resolve().parents[4]
_IN_A_NEW_PROCESS = (
    "from app.ai.knowledge.embedders.hashing import HashingEmbedder\n"
    "print(HashingEmbedder().vector('Deterministic across processes').tobytes().hex())\n"
)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)


async def test_vectors_are_unit_length_and_sized() -> None:
    embedder = HashingEmbedder()

    [vector] = await embedder.embed(["Bees dance to share where flowers are."])

    assert embedder.model == MODEL
    assert vector.shape == (DEFAULT_DIMENSION,)
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-6


async def test_shared_words_and_stems_bring_texts_close() -> None:
    embedder = HashingEmbedder()
    query, near, far = await embedder.embed(
        [
            "training plan for running a marathon",
            "a marathon runner trains for months",
            "chocolate cake recipe",
        ]
    )

    assert cosine(query, near) > 0.15
    assert abs(cosine(query, far)) < 0.05


async def test_meaning_without_shared_spelling_is_not_seen() -> None:
    """The limit the name promises: synonyms with no letters in common stay apart."""
    embedder = HashingEmbedder()
    first, second = await embedder.embed(["automobile", "car"])

    assert abs(cosine(first, second)) < 0.2


async def test_stopwords_alone_give_a_zero_vector() -> None:
    [vector] = await HashingEmbedder().embed(["what is the of it"])

    assert not vector.any()


def test_the_same_text_gives_the_same_vector_in_another_process() -> None:
    here = HashingEmbedder().vector("Deterministic across processes").tobytes().hex()

    there = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", _IN_A_NEW_PROCESS],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    assert there == here


async def test_the_dimension_is_configurable() -> None:
    [vector] = await HashingEmbedder(dimension=64).embed(["small"])

    assert vector.shape == (64,)
