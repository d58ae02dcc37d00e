"""Embedders by name: entries that say how to build each one, in a dict that refuses duplicates.

Which embedders exist is `catalog.py`'s business; this module never changes when one is
added.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from app.ai.knowledge.embedders.base import Embedder
from app.ai.providers.factory import ProviderFactory
from app.core.config import Settings

EmbedderLoader = Callable[[Settings, ProviderFactory], Embedder]


class EmbedderConfigError(ValueError):
    """The settings name an unknown embedder, or one that cannot be built as configured."""


@dataclass(frozen=True, slots=True)
class EmbedderEntry:
    """How to build one embedder from the settings (and, for a vendor's, its provider)."""

    name: str
    load: EmbedderLoader


class EmbedderRegistry:
    """Embedder names to entries; a name can be registered once."""

    def __init__(self, entries: Iterable[EmbedderEntry] = ()) -> None:
        self._entries: dict[str, EmbedderEntry] = {}
        for entry in entries:
            self.register(entry)

    def register(self, entry: EmbedderEntry) -> None:
        """Add an embedder; a name taken twice would make EMBEDDING_PROVIDER ambiguous."""
        if entry.name in self._entries:
            raise ValueError(f"An embedder named {entry.name!r} is already registered")
        self._entries[entry.name] = entry

    def entry(self, name: str) -> EmbedderEntry:
        """The entry for `name`.

        Raises:
            EmbedderConfigError: nothing is registered under `name`.
        """
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(self.names())
            raise EmbedderConfigError(
                f"Unknown embedder {name!r}; known embedders: {known}"
            ) from None

    def names(self) -> list[str]:
        """Registered names in catalog order."""
        return list(self._entries)
