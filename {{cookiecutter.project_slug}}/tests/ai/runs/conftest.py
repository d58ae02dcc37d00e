"""Rows written straight to the database, for the runs these tests start."""

from __future__ import annotations

import pytest

from app.db.session import Database
from tests.support.builders import Builder


@pytest.fixture
def builder(database: Database) -> Builder:
    return Builder(database)
