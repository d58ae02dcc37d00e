"""An offline embedder for development and tests: lexical feature hashing, not semantics.

Each text becomes a bag of features (content words, adjacent word pairs, and the
character 3- to 5-grams of every word), hashed with signs into a fixed number of
dimensions (the "hashing trick"). Texts that share words, word stems or phrases end up
close; synonyms and paraphrases with no shared letters do not. It needs no key, no
network and no download, and is deterministic across processes and machines.

For semantic search use a real embedding model through `EMBEDDING_PROVIDER` (a vendor's
model, or a local one served by an OpenAI-compatible server; see `.env.example`).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from app.ai.knowledge.embedders.base import Embedder, Vector
from app.ai.knowledge.text import content_words

MODEL = "hashing-v1"
DEFAULT_DIMENSION = 768
CHAR_NGRAM_SIZES = (3, 4, 5)
# A word counts once as itself and once, spread over its n-grams, as its spelling;
# pairs add word order. Tuned on the retrieval-quality corpus in the tests.
WORD_WEIGHT = 1.0
SPELLING_WEIGHT = 1.0
PAIR_WEIGHT = 0.5
# An odd 64-bit constant (from splitmix64) that spreads a word's hash before the next one's is added.
_PAIR_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


class HashingEmbedder(Embedder):
    """Deterministic lexical vectors; see the module docstring for what they can and cannot do."""

    name = "hashing"

    def __init__(self, *, dimension: int = DEFAULT_DIMENSION, batch_size: int = 256) -> None:
        super().__init__(model=MODEL, dimension=dimension, batch_size=batch_size)

    async def _embed_batch(self, texts: list[str]) -> Sequence[Vector]:
        return [self.vector(text) for text in texts]

    def vector(self, text: str) -> Vector:
        """The (unnormalised) hashed feature vector of one text."""
        words = content_words(text)
        if not words:
            return np.zeros(self.dimension, dtype=np.float32)
        counts = Counter(words)
        features = [_word_features(word, self.dimension) for word in counts]
        # Repeated words count sublinearly: 1 + ln(count).
        boost = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
        indices = [np.concatenate([word_indices for word_indices, _ in features])]
        weights = [
            np.concatenate([word_weights for _, word_weights in features])
            * np.repeat(boost, [len(word_indices) for word_indices, _ in features])
        ]
        if len(words) > 1:
            hashes = np.fromiter(map(_word_hash, words), dtype=np.uint64, count=len(words))
            pairs = hashes[:-1] * _PAIR_MULTIPLIER + hashes[1:]
            pairs ^= pairs >> np.uint64(29)
            indices.append((pairs % np.uint64(self.dimension)).astype(np.int64))
            weights.append(np.where(pairs >> np.uint64(63), PAIR_WEIGHT, -PAIR_WEIGHT))
        summed = np.bincount(
            np.concatenate(indices), weights=np.concatenate(weights), minlength=self.dimension
        )
        return summed.astype(np.float32)


@lru_cache(maxsize=200_000)
def _word_features(
    word: str, dimension: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """A word's hashed features: itself plus its character n-grams (cached: words repeat)."""
    marked = f"<{word}>"
    grams = [
        marked[start : start + size]
        for size in CHAR_NGRAM_SIZES
        for start in range(len(marked) - size + 1)
    ]
    features = [(f"w:{word}", WORD_WEIGHT)]
    features += [(f"c:{gram}", SPELLING_WEIGHT / len(grams)) for gram in grams]
    hashed = [(_hashed(name, dimension), weight) for name, weight in features]
    indices = np.array([index for (index, _), _ in hashed], dtype=np.int64)
    weights = np.array([sign * weight for (_, sign), weight in hashed], dtype=np.float64)
    return indices, weights


@lru_cache(maxsize=200_000)
def _word_hash(word: str) -> int:
    """A word's stable 64-bit hash, combined pairwise (vectorised) into word-pair features."""
    return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")


def _hashed(feature: str, dimension: int) -> tuple[int, float]:
    """A stable bucket and sign for a feature (Python's own hash() is salted per process)."""
    digest = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
    return digest % dimension, 1.0 if digest >> 63 else -1.0
