"""Jinja extension Cookiecutter loads from this repository (see `_extensions` in cookiecutter.json).

It derives the default `project_slug` from the project name, so any reasonable name
gives a slug the pre-generation hook accepts: `My Bot!` -> `my_bot`, `Émile Bot` ->
`emile_bot`, `123 Bot` -> `project_123_bot`, `FastAPI` -> `fastapi_service`. The rules
the slug must meet live in hooks/pre_gen_project.py; this module reads them from there.
"""

from __future__ import annotations

import importlib.util
import keyword
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from jinja2.ext import Extension
from slugify import slugify

HOOK_PATH = Path(__file__).resolve().parent / "hooks" / "pre_gen_project.py"
# A slug that cannot start with its first word (a digit) gets this word in front.
LEADING_WORD = "project"
# A slug that names a keyword or a reserved package gets this word after it.
TRAILING_WORD = "service"
# What an empty name derives (the hook refuses the empty name itself, by name).
EMPTY_NAME_SLUG = "unnamed"
# Apostrophes join their word ("Bob's" -> "bobs") instead of splitting it.
APOSTROPHES = [["'", ""], ["\u2019", ""]]


def _load_rules() -> ModuleType:
    """The pre-generation hook module, whose constants say what a valid slug is."""
    name = "kickstart_slug_rules"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HOOK_PATH)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {HOOK_PATH}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _is_taken(slug: str, rules: ModuleType) -> bool:
    """A keyword or a reserved package name would be refused by the hook."""
    return (
        keyword.iskeyword(slug)
        or keyword.issoftkeyword(slug)
        or slug in rules.SOFT_KEYWORDS
        or slug in rules.RESERVED_SLUGS
    )


def derive_slug(name: object) -> str:
    """The default slug for a project name: lowercase ASCII words joined by underscores."""
    rules = _load_rules()
    limit: int = rules.SLUG_MAX_LENGTH
    slug = slugify(str(name), separator="_", replacements=APOSTROPHES)
    if not slug:
        return EMPTY_NAME_SLUG
    if not slug[0].isalpha():
        slug = f"{LEADING_WORD}_{slug}"
    slug = slug[:limit].rstrip("_")
    if _is_taken(slug, rules):
        slug = f"{slug[: limit - len(TRAILING_WORD) - 1]}_{TRAILING_WORD}"
    return slug


class ProjectSlugExtension(Extension):
    """Adds the `project_slug` filter used by the default answer in cookiecutter.json."""

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        environment.filters["project_slug"] = derive_slug
