"""The embedder contract: a named model that turns texts into vectors of a known size."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Vector = npt.NDArray[np.float32]
else:
    # numpy loads with the first text embedded, not with the API's routes.
    Vector = Any


class EmbeddingError(Exception):
    """Embedding failed, or the model answered with vectors of the wrong number or size."""


class Embedder(ABC):
    """Texts in, one unit-length vector per text out, in batches the vendor accepts.

    `model` and `dimension` are recorded with every stored vector: vectors of different
    models live in different spaces and are never compared.

    Subclasses implement `_embed_batch`; `embed` batches, checks and normalises.
    """

    name: ClassVar[str]

    def __init__(self, *, model: str, dimension: int, batch_size: int) -> None:
        if dimension < 1:
            raise ValueError("dimension must be at least 1")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.model = model
        self.dimension = dimension
        self.batch_size = batch_size

    async def embed(self, texts: Sequence[str]) -> list[Vector]:
        """One L2-normalised float32 vector per text, in order.

        Raises:
            EmbeddingError: the model failed, or returned the wrong number or size of vectors.
        """
        vectors: list[Vector] = []
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            answered = await self._embed_batch(batch)
            if len(answered) != len(batch):
                raise EmbeddingError(
                    f"{self.model} returned {len(answered)} vectors for {len(batch)} texts"
                )
            vectors.extend(self._checked(vector) for vector in answered)
        return vectors

    async def embed_one(self, text: str) -> Vector:
        """The vector of a single text, such as a search query."""
        [vector] = await self.embed([text])
        return vector

    async def aclose(self) -> None:  # noqa: B027 - most embedders hold nothing to release
        """Release what the embedder holds; the providers it borrows close themselves."""

    @abstractmethod
    async def _embed_batch(self, texts: list[str]) -> Sequence[Sequence[float] | Vector]:
        """Vectors for at most `batch_size` texts, in order, in any scale.

        Raises:
            EmbeddingError: the model could not embed them.
        """

    def _checked(self, vector: Sequence[float] | Vector) -> Vector:
        import numpy as np

        array = np.asarray(vector, dtype=np.float32)
        if array.shape != (self.dimension,):
            raise EmbeddingError(
                f"{self.model} returned a vector of size {array.size}, expected "
                f"{self.dimension}; set EMBEDDING_DIMENSION to the model's size"
            )
        if not np.isfinite(array).all():
            raise EmbeddingError(f"{self.model} returned a vector with NaN or infinite values")
        return normalized(array)


def normalized(vector: Vector) -> Vector:
    """The vector scaled to unit length (a zero vector stays zero), so dot product is cosine."""
    import numpy as np

    norm = float(np.linalg.norm(vector))
    if norm == 0.0:
        return np.zeros_like(vector)
    return (vector / norm).astype(np.float32)
