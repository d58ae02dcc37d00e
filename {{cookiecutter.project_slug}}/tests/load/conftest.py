"""Fixtures for tests that load a served process: each brings its own database and server."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _clean_state() -> None:
    """Served processes use databases of their own, so the suite-wide cleanup is skipped."""
