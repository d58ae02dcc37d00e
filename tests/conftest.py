"""Fixtures shared by the template's tests: cached renders and service checks."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.helpers import (
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    LONGEST_FIRST,
    SUPPORTED,
    TEMPLATE_DIR,
    answers_for,
)

Bake = Callable[[str], Path]


def pytest_configure(config: pytest.Config) -> None:
    """Render from this checkout whatever folder pytest was started in."""
    config.option.template = str(TEMPLATE_DIR)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    """Stop when `--dist loadgroup` would split an xdist_group over workers.

    The end-to-end servers and each configuration's venv are one per group; spread over
    workers they run twice and share one Redis index, so one test's flush loses another's
    state. pytest-xdist tags a grouped test's id with `@group`, which some pytest releases
    drop without a word.
    """
    if node.config.getvalue("dist") != "loadgroup":
        return
    by_file: dict[str, list[str]] = {}
    for nodeid in ids:
        by_file.setdefault(nodeid.split("::", 1)[0], []).append(nodeid)
    root = Path(node.config.rootpath)
    for file, file_ids in by_file.items():
        grouping = "xdist_group(" in (root / file).read_text(encoding="utf-8")
        if grouping and not any("@" in nodeid for nodeid in file_ids):
            pytest.exit(
                f"pytest-xdist did not group the tests of {file}: install the pytest and "
                "pytest-xdist versions requirements-dev.txt allows",
                returncode=pytest.ExitCode.USAGE_ERROR,
            )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the configurations KICKSTART_CONFIGS names, then put the longest work first."""
    _keep_wanted_configs(config, items)
    items.sort(key=_rank)


def _rank(item: pytest.Item) -> int:
    """Where the item's unit of work stands in LONGEST_FIRST; the rest after, in order."""
    group = item.get_closest_marker("xdist_group")
    unit = str(group.args[0]) if group and group.args else item.name.split("[", 1)[0]
    return LONGEST_FIRST.index(unit) if unit in LONGEST_FIRST else len(LONGEST_FIRST)


def _keep_wanted_configs(config: pytest.Config, items: list[pytest.Item]) -> None:
    """KICKSTART_CONFIGS=default,minimal keeps only those configurations' tests.

    CI's matrix uses it to split configurations across jobs; tests that are not about
    one configuration (hooks, docs) always run.
    """
    wanted = {name.strip() for name in os.environ.get("KICKSTART_CONFIGS", "").split(",")}
    wanted.discard("")
    if not wanted:
        return
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec else {}
        config_name = params.get("config_id", params.get("name"))
        (kept if config_name is None or config_name in wanted else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def render(cookies_session: Any) -> Callable[[str, dict[str, Any]], Path]:
    """Render `extra` answers once per session under `key`; later calls reuse the folder."""
    cache: dict[str, Any] = {}

    def bake(key: str, extra: dict[str, Any]) -> Path:
        if key not in cache:
            cache[key] = cookies_session.bake(extra_context=extra, template=str(TEMPLATE_DIR))
        result = cache[key]
        if result.exception is not None or result.exit_code != 0:
            pytest.fail(f"{key} did not render: {result.exception!r}")
        path: Path = result.project_path
        return path

    return bake


@pytest.fixture(scope="session")
def baked(render: Callable[[str, dict[str, Any]], Path]) -> Bake:
    """Render one of the SUPPORTED configurations (cached for the session)."""
    return lambda config_id: render(config_id, SUPPORTED[config_id])


@pytest.fixture
def answers(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The full answers of the parametrized `config_id`."""
    return answers_for(SUPPORTED[request.getfixturevalue("config_id")])


def _reachable(url: str) -> bool:
    parts = urlsplit(url.replace("+asyncpg", ""))
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), 2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def service_urls() -> dict[str, str]:
    """TEST_DATABASE_URL / TEST_REDIS_URL for the generated suites, with local defaults.

    Locally a missing server skips the `postgres` tests; under CI (CI=true) it fails them,
    so a broken CI machine cannot pass by skipping.
    """
    urls = {
        "TEST_DATABASE_URL": os.environ.get("TEST_DATABASE_URL", DEFAULT_DATABASE_URL),
        "TEST_REDIS_URL": os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS_URL),
    }
    down = [name for name, url in urls.items() if not _reachable(url)]
    if down:
        message = f"not reachable: {', '.join(f'{n}={urls[n]}' for n in down)}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return urls


@pytest.fixture(scope="session")
def checkov() -> Path:
    """The checkov executable, in its own cached virtualenv (built on first use, about a minute)."""
    from tests.iac import checkov_executable

    return checkov_executable()
