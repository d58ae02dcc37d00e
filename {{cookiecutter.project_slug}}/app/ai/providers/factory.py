"""Providers by name: a registry of lazy loaders and a per-application cache of instances.

Each loader imports its adapter (and so the vendor SDK) only when the provider is first
used: importing all three SDKs costs seconds at startup. Add your own provider with
`register("name", loader, ...)` from a module imported at startup.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from pydantic import SecretStr

from app.ai.providers.base import Provider
from app.core.config import Settings
from app.core.errors import UnprocessableError

logger = structlog.get_logger(__name__)

ProviderLoader = Callable[[Settings], Provider]


class UnknownProviderError(UnprocessableError):
    """No provider is registered under this name."""


class ProviderNotConfiguredError(UnprocessableError):
    """The provider exists but its settings (usually an API key) are missing."""


def _secret(value: SecretStr | None) -> str:
    """A key's text; loaders only run once `is_configured` has seen the key set."""
    return value.get_secret_value() if value else ""


def _always(_settings: Settings) -> bool:
    return True


def _no_default(_settings: Settings) -> str:
    return ""


@dataclass(frozen=True, slots=True)
class ProviderEntry:
    """How to build one provider, and how to tell whether the settings allow it."""

    load: ProviderLoader
    default_model: Callable[[Settings], str] = _no_default
    is_configured: Callable[[Settings], bool] = _always
    requires: str = ""


class ProviderRegistry:
    """Provider names to loaders; a name can be registered once."""

    def __init__(self) -> None:
        self._entries: dict[str, ProviderEntry] = {}

    def register(
        self,
        name: str,
        loader: ProviderLoader,
        *,
        default_model: Callable[[Settings], str] = _no_default,
        is_configured: Callable[[Settings], bool] = _always,
        requires: str = "",
    ) -> None:
        """Add a provider; `requires` names the settings to set when it is not configured."""
        if name in self._entries:
            raise ValueError(f"A provider named {name!r} is already registered")
        self._entries[name] = ProviderEntry(loader, default_model, is_configured, requires)

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
        return list(self._entries)


registry = ProviderRegistry()
register = registry.register


class ProviderFactory:
    """One instance per provider for the application's lifetime, built on first use."""

    def __init__(self, settings: Settings, providers: ProviderRegistry = registry) -> None:
        self._settings = settings
        self._registry = providers
        self._instances: dict[str, Provider] = {}

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
        return self._registry.entry(name).default_model(self._settings)

    async def aclose(self) -> None:
        """Close every built provider; one failing to close does not keep others open."""
        instances, self._instances = self._instances, {}
        results = await asyncio.gather(
            *(provider.aclose() for provider in instances.values()), return_exceptions=True
        )
        for name, result in zip(instances, results, strict=True):
            if isinstance(result, Exception):
                logger.warning("provider_close_failed", provider=name, error=str(result))


def _load_scripted(_settings: Settings) -> Provider:
    from app.ai.providers.scripted import ScriptedProvider

    return ScriptedProvider()


register("scripted", _load_scripted, default_model=lambda _settings: "scripted")
{%- if cookiecutter.use_openai %}


def _load_openai(settings: Settings) -> Provider:
    from app.ai.providers.openai import OpenAIProvider

    key = settings.openai_api_key
    return OpenAIProvider(
        api_key=key.get_secret_value() if key else None,
        base_url=settings.openai_base_url,
        timeout=settings.llm_timeout_seconds,
        max_retries=settings.llm_max_retries,
    )


register(
    "openai",
    _load_openai,
    default_model=lambda settings: settings.openai_default_model,
    is_configured=lambda settings: bool(settings.openai_api_key or settings.openai_base_url),
    requires="OPENAI_API_KEY (or OPENAI_BASE_URL for a local server such as Ollama)",
)
{%- endif %}
{%- if cookiecutter.use_anthropic %}


def _load_anthropic(settings: Settings) -> Provider:
    from app.ai.providers.anthropic import AnthropicProvider

    return AnthropicProvider(
        api_key=_secret(settings.anthropic_api_key),
        timeout=settings.llm_timeout_seconds,
        max_retries=settings.llm_max_retries,
    )


register(
    "anthropic",
    _load_anthropic,
    default_model=lambda settings: settings.anthropic_default_model,
    is_configured=lambda settings: bool(settings.anthropic_api_key),
    requires="ANTHROPIC_API_KEY",
)
{%- endif %}
{%- if cookiecutter.use_gemini %}


def _load_gemini(settings: Settings) -> Provider:
    from app.ai.providers.gemini import GeminiProvider

    return GeminiProvider(
        api_key=_secret(settings.gemini_api_key),
        timeout=settings.llm_timeout_seconds,
        max_retries=settings.llm_max_retries,
    )


register(
    "gemini",
    _load_gemini,
    default_model=lambda settings: settings.gemini_default_model,
    is_configured=lambda settings: bool(settings.gemini_api_key),
    requires="GEMINI_API_KEY",
)
{%- endif %}
