"""Settings built from a test's own values, never from a developer's `.env` file."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic_settings import SettingsConfigDict

from app.core.config import Settings


class _WithoutDotenv(Settings):
    """Settings that skip `.env`, so local keys and URLs never leak into a test."""

    model_config = SettingsConfigDict(env_file=None)


def settings_from(values: Mapping[str, object]) -> Settings:
    """Validated settings from these values over the environment, as `Settings(**values)` is.

    Taking a mapping keeps callers typed: pydantic checks each value, so any field name works.
    """
    return _WithoutDotenv.model_validate(values)
