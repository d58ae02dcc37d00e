"""A column of float32 vectors: {% if cookiecutter.database == "postgresql" %}pgvector's `vector` on PostgreSQL, {% endif %}a little-endian BLOB on SQLite.

The BLOB layout (raw float32, little-endian) is the one the sqlite-vec extension reads,
so its distance functions work on these columns unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import LargeBinary
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatVector = npt.NDArray[np.float32]
else:
    # numpy loads with the first vector read or written, not with the models: at run
    # time the alias only meets SQLAlchemy's annotation scan, and the column gives the type.
    FloatVector = Any

_FLOAT32 = "<f4"


class VectorColumn(TypeDecorator[FloatVector]):
    """Vectors of any length; the length is kept beside them and checked by the code."""

    impl = LargeBinary
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """The column type the database stores vectors in."""
{%- if cookiecutter.database == "postgresql" %}
        if dialect.name == "postgresql":
            from pgvector.sqlalchemy import VECTOR

            return dialect.type_descriptor(VECTOR())
{%- endif %}
        return dialect.type_descriptor(LargeBinary())

    def process_bind_param(
        self, value: FloatVector | Sequence[float] | None, dialect: Dialect
    ) -> Any:
        """Check the vector is one-dimensional and write it in the database's form."""
        if value is None:
            return None
        import numpy as np

        array = np.asarray(value, dtype=_FLOAT32)
        if array.ndim != 1:
            raise ValueError("a vector must be one-dimensional")
{%- if cookiecutter.database == "postgresql" %}
        if dialect.name == "postgresql":
            return array  # pgvector's own bind processor writes the text form
{%- endif %}
        return array.tobytes()

    def process_result_value(self, value: Any, dialect: Dialect) -> FloatVector | None:
        """Read a vector back as a float32 array, from bytes or the driver's own form."""
        if value is None:
            return None
        if isinstance(value, bytes | bytearray | memoryview):
            return from_blob(bytes(value))
        import numpy as np

        return np.asarray(value, dtype=np.float32)


def from_blob(blob: bytes) -> FloatVector:
    """A stored SQLite vector back as a float32 array."""
    import numpy as np

    return np.frombuffer(blob, dtype=_FLOAT32).astype(np.float32)
