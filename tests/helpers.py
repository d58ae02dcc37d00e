"""What the template tests share: paths, the configuration lists, and small checks.

`test_template.py` (the human-facing script) imports this module too, so the
configurations a person runs are the ones CI runs.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from local_extensions import derive_slug

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
HOOKS_DIR = TEMPLATE_DIR / "hooks"
PROJECT_TEMPLATE = TEMPLATE_DIR / "{{cookiecutter.project_slug}}"
COOKIECUTTER_JSON = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text(encoding="utf-8"))

RUNNING_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
PYTHON_VERSIONS: list[str] = list(COOKIECUTTER_JSON["python_version"])
LICENSES: list[str] = list(COOKIECUTTER_JSON["license"])

DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def load_hook(name: str) -> ModuleType:
    """Import a hook file by path; it carries Jinja only inside one string, so it imports."""
    path = HOOKS_DIR / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"kickstart_hooks_{name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


# --- configurations -----------------------------------------------------------------

MINIMAL: dict[str, Any] = {
    "database": "sqlite",
    "use_redis": False,
    "include_docker": False,
    "include_github_actions": False,
    "use_opentelemetry": False,
}
NO_PROVIDERS: dict[str, Any] = {
    "use_openai": False,
    "use_anthropic": False,
    "use_gemini": False,
}


def only_provider(name: str) -> dict[str, Any]:
    """Exactly one vendor provider on."""
    return {**NO_PROVIDERS, f"use_{name}": True}


# Every combination here must render to a project that passes lint (layer 1).
SUPPORTED: dict[str, dict[str, Any]] = {
    "default": {},
    "minimal": MINIMAL,
    "bare": {**MINIMAL, **NO_PROVIDERS},
    "no_providers": NO_PROVIDERS,
    "only_openai": only_provider("openai"),
    "only_anthropic": only_provider("anthropic"),
    "only_gemini": only_provider("gemini"),
    "no_openai": {"use_openai": False},
    "no_anthropic": {"use_anthropic": False},
    "no_gemini": {"use_gemini": False},
    "postgresql_redis": {"database": "postgresql", "use_redis": True},
    "postgresql_no_redis": {"database": "postgresql", "use_redis": False},
    "sqlite_redis": {"database": "sqlite", "use_redis": True},
    "docker_without_ci": {"include_docker": True, "include_github_actions": False},
    "ci_without_docker": {"include_docker": False, "include_github_actions": True},
    "terraform": {"include_terraform": True},
    "kubernetes": {"include_kubernetes": True},
    "deploy_both": {"include_terraform": True, "include_kubernetes": True},
    # The deployment files with every optional part off: SQLite, no Redis, no provider.
    "deploy_bare": {
        **MINIMAL,
        **NO_PROVIDERS,
        "include_terraform": True,
        "include_kubernetes": True,
    },
    **{f"python_{v.replace('.', '')}": {"python_version": v} for v in PYTHON_VERSIONS},
    **{
        f"license_{lic.lower().replace('-', '_').replace('.', '')}": {"license": lic}
        for lic in LICENSES
    },
    "custom_metadata": {
        "project_name": "Bob's Agent Platform",
        "project_slug": "bobs_agents",
        "description": "Bob's agents: tools, memory & streaming <fast>.",
        "author_name": "Zoë O'Brien",
        "author_email": "zoe.obrien+agents@example.co.uk",
        "version": "2.0.0rc1",
    },
    "explicit_slug": {"project_name": "Agents", "project_slug": "agents_api"},
    # Names whose default slug needs more than lowercasing; it must still pass the hook.
    "name_with_accents": {"project_name": "Émile's Bot!"},
    "name_with_leading_digits": {"project_name": "123 Bot"},
}

# Each answer set must be refused by the pre-generation hook: (field, extra_context).
UNSUPPORTED: dict[str, tuple[str, dict[str, Any]]] = {
    "slug_with_dash": ("project_slug", {"project_slug": "my-service"}),
    "slug_with_space": ("project_slug", {"project_slug": "my service"}),
    "slug_uppercase": ("project_slug", {"project_slug": "MyService"}),
    "slug_leading_digit": ("project_slug", {"project_slug": "1service"}),
    "slug_leading_underscore": ("project_slug", {"project_slug": "_service"}),
    "slug_keyword": ("project_slug", {"project_slug": "class"}),
    "slug_soft_keyword": ("project_slug", {"project_slug": "match"}),
    "slug_app": ("project_slug", {"project_slug": "app"}),
    "slug_tests": ("project_slug", {"project_slug": "tests"}),
    "slug_test": ("project_slug", {"project_slug": "test"}),
    "slug_alembic": ("project_slug", {"project_slug": "alembic"}),
    "slug_fastapi": ("project_slug", {"project_slug": "fastapi"}),
    "slug_sqlalchemy": ("project_slug", {"project_slug": "sqlalchemy"}),
    "slug_pydantic": ("project_slug", {"project_slug": "pydantic"}),
    "slug_openai": ("project_slug", {"project_slug": "openai"}),
    "slug_redis": ("project_slug", {"project_slug": "redis"}),
    "email_missing_at": ("author_email", {"author_email": "you.example.com"}),
    "email_missing_domain": ("author_email", {"author_email": "you@"}),
    "email_with_space": ("author_email", {"author_email": "you @example.com"}),
    "version_semver_prerelease": ("version", {"version": "1.0.0-beta"}),
    "version_word": ("version", {"version": "latest"}),
    "version_v_prefix": ("version", {"version": "v1.0"}),
    "name_empty": ("project_name", {"project_name": "", "project_slug": "valid_slug"}),
    "name_empty_default_slug": ("project_name", {"project_name": ""}),
    "name_blank": (
        "project_name",
        {"project_name": "   ", "project_slug": "valid_slug"},
    ),
    "name_300_characters": (
        "project_name",
        {"project_name": "A" * 300, "project_slug": "valid_slug"},
    ),
    "name_300_characters_default_slug": ("project_name", {"project_name": "A" * 300}),
    "name_with_double_quote": ("project_name", {"project_name": 'The "Best" Agents'}),
    "description_with_backslash": ("description", {"description": "C:\\agents"}),
    "author_with_double_quote": ("author_name", {"author_name": 'Ann "AJ" Jones'}),
}


@dataclass(frozen=True)
class SuiteConfig:
    """A configuration whose generated suite runs (layer 2), and how."""

    extra: dict[str, Any]
    fresh_venv: bool = False  # `make install` from its own pyproject.toml, then lint + mypy
    services: bool = False  # against TEST_DATABASE_URL / TEST_REDIS_URL
    # `make test` with its coverage floor; False passes COVERAGE= to save the overhead.
    coverage: bool = True
    # Which of the generated suite's tests run, as a pytest `-m` expression; empty runs
    # them all. `slow` marks real servers, the browser and load.
    marks: str = ""
    # Test paths to run instead of the whole suite (every module is still collected, so a
    # dangling import of a pruned file fails); empty runs everything.
    paths: tuple[str, ...] = ()
    # The Redis database index its tests use in place of TEST_REDIS_URL's, so two suites
    # running side by side never reset each other's counters.
    redis_index: int | None = None
    # Test paths left out entirely (`--ignore`): for a project another configuration
    # already runs them on, collection included.
    ignore: tuple[str, ...] = ()


# What a provider choice changes: the provider and embedder modules, the catalogs, the
# settings, agent validation and the app's start-up.
PROVIDER_PATHS = (
    "tests/ai/providers",
    "tests/ai/knowledge/embedders",
    "tests/api/test_agents.py",
    "tests/api/test_openai_compat.py",
    "tests/core/test_config.py",
    "tests/test_main.py",
)

# What pruning every option changes beyond the provider choice: the settings, tracing,
# the stores without Redis, start-up and the health checks. The rest of the SQLite suite
# runs on the `default` project in the AGENTS.md walkthrough's `make check`.
BARE_PATHS = (*PROVIDER_PATHS, "tests/core", "tests/api/test_health.py")
POSTGRESQL_REDIS = {"database": "postgresql", "use_redis": True}

# Layer 2: rendered for the running Python; the others share this venv.
SUITES: dict[str, SuiteConfig] = {
    # The same project as `postgresql_redis`, whose run (with the services) checks the
    # coverage floor; this one proves it installs, lints and type-checks on its own, and
    # runs the slow layer on SQLite. Its other tests run in `make check` of the AGENTS.md
    # walkthrough (tests/test_generated_suites.py), on this project extended by every recipe.
    # Its load tests are `postgresql_redis_slow`'s: that run has the services, and runs
    # each SQLite case too.
    "default": SuiteConfig(
        {}, fresh_venv=True, coverage=False, marks="slow", ignore=("tests/load",)
    ),
    # The SQLite-only project: `bare` runs what pruning every option touches (the slow
    # layer on SQLite is `default`'s); with every provider on, what differs is what the
    # provider choice touches.
    "minimal": SuiteConfig(MINIMAL, coverage=False, marks="not slow", paths=PROVIDER_PATHS),
    "bare": SuiteConfig(
        {**MINIMAL, **NO_PROVIDERS}, coverage=False, marks="not slow", paths=BARE_PATHS
    ),
    # The full project on its services, in two halves that run side by side: the fast
    # layer with the coverage floor, and the slow layer (servers, workers, browser, load),
    # whose code runs in other processes that coverage does not follow.
    "postgresql_redis": SuiteConfig(POSTGRESQL_REDIS, services=True, marks="not slow"),
    "postgresql_redis_slow": SuiteConfig(
        POSTGRESQL_REDIS, services=True, coverage=False, marks="slow", redis_index=1
    ),
    # Between `default` (all three providers) and `bare` (none): each provider alone, and
    # Anthropic with Gemini (no OpenAI, whose SDK also serves local servers). They run the
    # tests a provider choice touches, without the slow layer and the coverage overhead
    # (the floor is checked on the full project, with real services).
    **{
        name: SuiteConfig(SUPPORTED[name], coverage=False, marks="not slow", paths=PROVIDER_PATHS)
        for name in ("only_openai", "only_anthropic", "only_gemini", "no_openai")
    },
}


# The longest units of work (an xdist group, or a test of its own), longest first. With
# `--dist loadgroup` the two workers take units in collection order, so these start at
# once and the short ones fill in around them rather than one long unit starting last.
LONGEST_FIRST = (
    "layer2-postgresql_redis",
    "test_agents_guide_commands_work",
    "layer2-postgresql_redis_slow",
    "layer2-default",
    "e2e",
    "test_readme_quick_start_serves_the_default_project",
    "upgrade",
)


def answers_for(extra: Mapping[str, Any]) -> dict[str, Any]:
    """The full answers a configuration renders with: cookiecutter.json defaults + overrides."""
    answers: dict[str, Any] = {}
    for key, value in COOKIECUTTER_JSON.items():
        if key.startswith("_"):
            continue
        answers[key] = value[0] if isinstance(value, list) else value
    answers.update(extra)
    if "project_slug" not in extra:
        answers["project_slug"] = derive_slug(answers["project_name"])
    return answers


# --- what a pruned option must leave no trace of ------------------------------------

# Patterns that mean "this option's code, setting, dependency or doc is still here",
# searched in every file. Precise on purpose: "OpenAI-compatible endpoint" is fine
# without the OpenAI provider; `from openai import ...` or `OPENAI_API_KEY` is not.
LEFTOVER_PATTERNS: dict[str, list[str]] = {
    "use_redis": [
        r"store_redis",
        r"rate_limit_redis",
        r"^\s*(import|from) (redis|fakeredis)\b",
        r"(?i)redis_url\b",
        r"redis-server",
        r"(?i)redis:\d",
    ],
    "use_openai": [
        r"providers[./]openai\b",
        r"^\s*(import|from) openai\b",
        r"(?i)\bopenai_(api_key|base_url|default_model)\b",
    ],
    "use_anthropic": [
        r"providers[./]anthropic\b",
        r"^\s*(import|from) anthropic\b",
        r"(?i)\banthropic_(api_key|default_model)\b",
    ],
    "use_gemini": [
        r"providers[./]gemini\b",
        r"^\s*from google import genai\b",
        r"^\s*import google\.genai\b",
        r"(?i)\bgemini_(api_key|default_model)\b",
    ],
    "use_opentelemetry": [r"(?i)opentelemetry", r"\bOTEL_", r"(?i)\botel_", r"core\.tracing"],
    "include_docker": [r"Dockerfile", r"docker-compose", r"(?i)docker compose"],
    "include_github_actions": [r"\.github/workflows", r"(?i)github actions"],
    "include_terraform": [r"deploy/terraform", r"(?i)\bterraform\b"],
    "include_kubernetes": [
        r"deploy/k8s",
        r"(?i)\bkubernetes\b",
        r"(?i)\bkustomiz",
        r"\bkubectl\b",
    ],
}

# The SDK or package name itself, searched only where the choice is declared or
# documented: dependencies, settings, the provider factory and the docs. (A test may
# name every SDK, e.g. to prove none is imported at startup.)
DECLARATION_FILES = [
    "pyproject.toml",
    "app/core/config.py",
    "app/ai/providers/factory.py",
    ".env.example",
    "README.md",
    "AGENTS.md",
    "Makefile",
    "docker-compose.yml",
    ".github/workflows/ci.yml",
]
DECLARED_NAME_PATTERNS: dict[str, list[str]] = {
    "use_redis": [r"(?i)\bfakeredis\b", r'"redis[>=<\[]', r"TEST_REDIS_URL"],
    # The SDK itself stays a dev dependency: the OpenAI-compatible endpoint's tests use it.
    "use_openai": [
        r"\bimport openai\b",
        r"\bopenai\.(Async)?OpenAI\b",
    ],
    "use_anthropic": [r"(?i)\banthropic\b"],
    "use_gemini": [r"google[.-]genai", r"(?i)\bgemini\b"],
}
# When the production database is SQLite, the PostgreSQL driver, pgvector and the
# tests' PostgreSQL server must not be shipped.
SQLITE_LEFTOVER_PATTERNS = [
    r"asyncpg",
    r"(?i)image:\s*postgres",
    r"pg_isready",
    r"(?i)pgvector",
    r"pgserver",
]
SQLITE_LEFTOVER_FILES = [
    "pyproject.toml",
    ".env.example",
    "README.md",
    "Makefile",
    "docker-compose.yml",
    ".github/workflows/ci.yml",
]

# Openers only: `}}` closes nested dict literals in ordinary Python and JSON.
TEMPLATE_SYNTAX = re.compile(r"\{\{|\{%|\{#|cookiecutter\.")


def is_binary(path: Path) -> bool:
    """A NUL byte in the first block marks a binary file."""
    with path.open("rb") as handle:
        return b"\0" in handle.read(8192)


def text_files(root: Path) -> Iterator[Path]:
    """Every non-binary file under `root`, skipping caches and virtualenvs."""
    caches = {
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".import_linter_cache",
        ".git",
    }
    local = {
        ".venv",
        "data",
        ".env",
    }  # made by `make install` / `make dev`, not rendered
    for path in sorted(root.rglob("*")):
        parts = path.relative_to(root).parts
        if (
            parts[0] in local
            or caches.intersection(parts)
            or any(part.endswith(".egg-info") for part in parts)
        ):
            continue
        if path.is_file() and not is_binary(path):
            yield path


def leftover_template_syntax(root: Path) -> list[str]:
    """`path:line: text` for every line still holding Jinja or a cookiecutter variable."""
    hits = []
    for path in text_files(root):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if TEMPLATE_SYNTAX.search(line) and not _allowed_braces(path, line):
                hits.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    return hits


def _allowed_braces(path: Path, line: str) -> bool:
    """GitHub Actions expressions `${{ ... }}` are meant to survive rendering."""
    if ".github" in path.parts and "cookiecutter." not in line:
        return not re.sub(r"\$\{\{.*?\}\}", "", line).count("{{")
    return False


def references(root: Path, patterns: list[str], only: list[str] | None = None) -> list[str]:
    """`path:line: text` for each line matching any pattern (in `only` files, if given)."""
    compiled = [re.compile(p, re.MULTILINE) for p in patterns]
    files = [root / name for name in only] if only else list(text_files(root))
    hits = []
    for path in files:
        if not path.is_file():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if any(regex.search(line) for regex in compiled):
                hits.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    return hits


def settings_fields(config_py: Path) -> list[str]:
    """Field names of `class Settings` in app/core/config.py, read with `ast`."""
    tree = ast.parse(config_py.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Settings":
            return [
                stmt.target.id
                for stmt in node.body
                if isinstance(stmt, ast.AnnAssign)
                and isinstance(stmt.target, ast.Name)
                and not stmt.target.id.startswith("_")
                and stmt.target.id != "model_config"
            ]
    raise AssertionError(f"no Settings class in {config_py}")


ENV_LINE = re.compile(r"^\s*#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def env_example_keys(env_example: Path) -> set[str]:
    """Variable names in .env.example, whether set or commented out as `# NAME=value`."""
    return {match.lower() for match in ENV_LINE.findall(env_example.read_text(encoding="utf-8"))}


def makefile_targets(makefile: Path) -> set[str]:
    """Targets defined in a Makefile (`name:` at the start of a line)."""
    text = makefile.read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z][A-Za-z0-9_-]*)\s*:(?!=)", text, re.MULTILINE))
