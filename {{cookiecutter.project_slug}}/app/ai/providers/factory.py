"""A per-application cache of provider instances, built from the catalog on first use.

Each loader imports its adapter (and so the vendor SDK) only when the provider is first
used: importing every SDK would cost seconds at startup. Providers are listed in
`catalog.py`; this module never changes when one is added.
"""

from __future__ import annotations

import asyncio

import structlog

from app.ai.providers.base import Provider
from app.ai.providers.catalog import PROVIDERS
from app.ai.providers.reachability import ProviderReachability
from app.ai.providers.registry import ProviderNotConfiguredError, ProviderRegistry
from app.core.config import Settings

logger = structlog.get_logger(__name__)


class ProviderFactory:
    """One instance per provider for the application's lifetime, built on first use."""

    def __init__(self, settings: Settings, providers: ProviderRegistry | None = None) -> None:
        """`providers` defaults to everything in the catalog; tests pass their own."""
        self._settings = settings
        self._registry = ProviderRegistry(PROVIDERS) if providers is None else providers
        self._instances: dict[str, Provider] = {}
        self.reachability = ProviderReachability(
            {name: self._registry.entry(name).endpoint(settings) for name in self.available()},
            interval_seconds=settings.provider_check_interval_seconds,
        )

    def get(self, name: str) -> Provider:
        """The provider called `name`, importing and building it the first time.

        Raises:
            UnknownProviderError: nothing is registered under `name`.
            ProviderNotConfiguredError: the settings it needs are missing.
        """
        if (provider := self._instances.get(name)) is not None:
            return provider
        entry = self._registry.entry(name)
        if not entry.is_configured(self._settings):
            raise ProviderNotConfiguredError(
                f"Provider {name!r} is not configured: set {entry.requires or 'its settings'}"
            )
        provider = self._instances[name] = entry.load(self._settings)
        return provider

    def available(self) -> list[str]:
        """Providers whose settings are present, so agents can use them."""
        return [
            name
            for name in self._registry.names()
            if self._registry.entry(name).is_configured(self._settings)
        ]

    def default_model(self, name: str) -> str:
        """The model an agent gets when it names the provider but no model."""
        return self._registry.entry(name).default_model(self._settings)

    async def aclose(self) -> None:
        """Close every built provider; one failing to close does not keep others open."""
        await self.reachability.aclose()
        instances, self._instances = self._instances, {}
        results = await asyncio.gather(
            *(provider.aclose() for provider in instances.values()), return_exceptions=True
        )
        for name, result in zip(instances, results, strict=True):
            if isinstance(result, Exception):
                logger.warning("provider_close_failed", provider=name, error=str(result))
