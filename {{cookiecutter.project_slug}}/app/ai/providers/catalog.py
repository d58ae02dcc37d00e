"""Every provider this service offers, one entry each, with how each is built from settings.

A loader imports its adapter inside the function, so a vendor SDK is loaded only when an
agent first uses that provider. To add one, write its loader here and one entry in
`PROVIDERS`; AGENTS.md ("Add a provider") walks through it.
"""

from __future__ import annotations

from pydantic import SecretStr

from app.ai.providers.base import Provider
from app.ai.providers.registry import ProviderEntry
from app.core.config import Settings


def secret_text(value: SecretStr | None) -> str:
    """An API key's text, or "" when unset: the one place a provider key leaves its wrapper."""
    return value.get_secret_value() if value else ""


def _load_scripted(_settings: Settings) -> Provider:
    from app.ai.providers.scripted import ScriptedProvider

    return ScriptedProvider()
{%- if cookiecutter.use_openai %}


def _load_openai(settings: Settings) -> Provider:
    from app.ai.providers.openai import OpenAIProvider

    return OpenAIProvider(
        api_key=secret_text(settings.openai_api_key) or None,
        base_url=settings.openai_base_url,
        timeout=settings.llm_timeout_seconds,
        max_retries=settings.llm_max_retries,
    )
{%- endif %}
{%- if cookiecutter.use_anthropic %}


def _load_anthropic(settings: Settings) -> Provider:
    from app.ai.providers.anthropic import AnthropicProvider

    return AnthropicProvider(
        api_key=secret_text(settings.anthropic_api_key),
        timeout=settings.llm_timeout_seconds,
        max_retries=settings.llm_max_retries,
    )
{%- endif %}
{%- if cookiecutter.use_gemini %}


def _load_gemini(settings: Settings) -> Provider:
    from app.ai.providers.gemini import GeminiProvider

    return GeminiProvider(
        api_key=secret_text(settings.gemini_api_key),
        timeout=settings.llm_timeout_seconds,
        max_retries=settings.llm_max_retries,
    )
{%- endif %}


PROVIDERS: list[ProviderEntry] = [
    ProviderEntry("scripted", _load_scripted, default_model=lambda _settings: "scripted"),
{%- if cookiecutter.use_openai %}
    ProviderEntry(
        "openai",
        _load_openai,
        default_model=lambda settings: settings.openai_default_model,
        is_configured=lambda settings: bool(settings.openai_api_key or settings.openai_base_url),
        requires="OPENAI_API_KEY (or OPENAI_BASE_URL for a local server such as Ollama)",
        endpoint=lambda settings: settings.openai_base_url or "https://api.openai.com/v1",
    ),
{%- endif %}
{%- if cookiecutter.use_anthropic %}
    ProviderEntry(
        "anthropic",
        _load_anthropic,
        default_model=lambda settings: settings.anthropic_default_model,
        is_configured=lambda settings: bool(settings.anthropic_api_key),
        requires="ANTHROPIC_API_KEY",
        endpoint=lambda _settings: "https://api.anthropic.com/v1",
    ),
{%- endif %}
{%- if cookiecutter.use_gemini %}
    ProviderEntry(
        "gemini",
        _load_gemini,
        default_model=lambda settings: settings.gemini_default_model,
        is_configured=lambda settings: bool(settings.gemini_api_key),
        requires="GEMINI_API_KEY",
        endpoint=lambda _settings: "https://generativelanguage.googleapis.com/v1beta",
    ),
{%- endif %}
]
