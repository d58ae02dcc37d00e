"""Providers by name: entries that say how to build each one, in a dict that refuses duplicates.

Which providers exist is `catalog.py`'s business; this module never changes when a
provider is added.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from app.ai.providers.base import Provider
from app.core.config import Settings
from app.core.errors import UnprocessableError

ProviderLoader = Callable[[Settings], Provider]


class UnknownProviderError(UnprocessableError):
    """No provider is registered under this name."""


class ProviderNotConfiguredError(UnprocessableError):
    """The provider exists but its settings (usually an API key) are missing."""


def _always(_settings: Settings) -> bool:
    return True


def _no_default(_settings: Settings) -> str:
    return ""


@dataclass(frozen=True, slots=True)
class ProviderEntry:
    """How to build one provider, and how to tell whether the settings allow it.

    `load` imports the adapter (and so the vendor SDK) only when it runs; `requires`
    names the settings to set when `is_configured` says they are missing. `endpoint` is
    the URL readiness reaches to see that the vendor's API answers ("" for a provider
    that runs in this process).
    """

    name: str
    load: ProviderLoader
    default_model: Callable[[Settings], str] = _no_default
    is_configured: Callable[[Settings], bool] = _always
    requires: str = ""
    endpoint: Callable[[Settings], str] = _no_default


class ProviderRegistry:
    """Provider names to entries; a name can be registered once."""

    def __init__(self, entries: Iterable[ProviderEntry] = ()) -> None:
        self._entries: dict[str, ProviderEntry] = {}
        for entry in entries:
            self.register(entry)

    def register(self, entry: ProviderEntry) -> None:
        """Add a provider; a name taken twice would make agents' `provider` ambiguous."""
        if entry.name in self._entries:
            raise ValueError(f"A provider named {entry.name!r} is already registered")
        self._entries[entry.name] = entry

    def entry(self, name: str) -> ProviderEntry:
        """The entry for `name`; an unknown name is the client's mistake, hence a 422."""
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(self.names())
            raise UnknownProviderError(
                f"Unknown provider {name!r}; known providers: {known}"
            ) from None

    def names(self) -> list[str]:
        """Registered names in catalog order, as readiness and error messages list them."""
        return list(self._entries)
