"""The agent template catalog: ready agents kept as TOML files in one folder.

A template's name is its file name without `.toml`; adding a file adds a template. The
folder is read on each request, so a new file needs no restart. A file that does not
parse or validate is left out of the catalog and logged, so one bad file hides nothing else.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import structlog
from pydantic import ValidationError

from app.schemas.agent_template import AgentTemplateFile, AgentTemplateRead

logger = structlog.get_logger(__name__)

SUFFIX = ".toml"
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_VALID_NAME = re.compile(NAME_PATTERN)


class AgentTemplateCatalog:
    """Reads the templates in `directory`; nothing outside it, whatever a name says."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def all(self) -> list[AgentTemplateRead]:
        """Every valid template, by name."""
        if not self.directory.is_dir():
            return []
        paths = sorted(self.directory.glob(f"*{SUFFIX}"))
        loaded = (self._load(path) for path in paths if _VALID_NAME.match(path.stem))
        return [template for template in loaded if template is not None]

    def get(self, name: str) -> AgentTemplateRead | None:
        """The template called `name`, or None when there is no valid one."""
        if not _VALID_NAME.match(name):
            return None
        path = self.directory / f"{name}{SUFFIX}"
        return self._load(path) if path.is_file() else None

    def _load(self, path: Path) -> AgentTemplateRead | None:
        """One file as a template, or None (logged) when it is not a valid one."""
        try:
            content = AgentTemplateFile.model_validate(tomllib.loads(path.read_text("utf-8")))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ValidationError) as exc:
            logger.warning("agent_template.invalid", path=str(path), error=str(exc))
            return None
        return AgentTemplateRead(name=path.stem, **content.model_dump())
