"""Embedder tests need no database."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _clean_state() -> None:
    """Nothing here touches a database, so the suite-wide table cleanup is skipped."""
