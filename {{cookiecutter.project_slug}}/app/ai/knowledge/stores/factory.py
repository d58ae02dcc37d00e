"""The search backend for a database, chosen by its SQLAlchemy dialect (so by DATABASE_URL)."""

from __future__ import annotations

from collections.abc import Callable

from app.ai.knowledge.stores.base import SearchBackend


def _sqlite() -> SearchBackend:
    from app.ai.knowledge.stores.sqlite import SQLiteSearch

    return SQLiteSearch()
{%- if cookiecutter.database == "postgresql" %}


def _postgresql() -> SearchBackend:
    from app.ai.knowledge.stores.pgvector import PgVectorSearch

    return PgVectorSearch()
{%- endif %}


_BACKENDS: dict[str, Callable[[], SearchBackend]] = {
    "sqlite": _sqlite,
{%- if cookiecutter.database == "postgresql" %}
    "postgresql": _postgresql,
{%- endif %}
}
_built: dict[str, SearchBackend] = {}


def backend_for(dialect: str) -> SearchBackend:
    """The backend for a dialect name such as "postgresql" or "sqlite".

    Raises:
        LookupError: no knowledge backend exists for that database.
    """
    if dialect not in _built:
        try:
            _built[dialect] = _BACKENDS[dialect]()
        except KeyError:
            known = ", ".join(_BACKENDS)
            raise LookupError(
                f"No knowledge search for {dialect!r} databases; use {known}"
            ) from None
    return _built[dialect]
