"""Applications built from settings that are validated again, as a fresh process would."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from app.core.config import Settings
from app.main import create_app


def settings_like(settings: Settings, **changes: Any) -> Settings:
    """`settings` with `changes`, re-validated so defaults that depend on others apply.

    `model_copy(update=...)` skips validation, so a changed ENVIRONMENT would keep the
    defaults the old one chose; None for an optional field asks for its default again.
    """
    values = {**settings.model_dump(), "auto_migrate": False, **changes}
    return Settings(_env_file=None, **values)


def app_like(settings: Settings, **changes: Any) -> FastAPI:
    """An application (lifespan not started) for routes that need only the settings."""
    return create_app(settings_like(settings, **changes))
