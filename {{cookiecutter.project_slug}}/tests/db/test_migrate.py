"""Start-up migrations: a database already at head is told by one query, without Alembic.

A database behind, new, or one whose revision files cannot be read plainly still goes
through Alembic, so the quick answer can only ever skip work that had nothing to do.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory

from app.core.config import PROJECT_ROOT, Settings
from app.db.migrate import alembic_config, recorded_revisions, script_heads, upgrade_if_behind
from tests.support.databases import temporary_database

POSTGRES_ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "")
needs_postgres = pytest.mark.skipif(
    not POSTGRES_ADMIN_URL, reason="set TEST_DATABASE_URL to run against PostgreSQL"
)


def _settings(url: str) -> Settings:
    return Settings(_env_file=None, environment="test", database_url=url)


def _alembic_heads() -> frozenset[str]:
    config = alembic_config(_settings("sqlite+aiosqlite:///:memory:"))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def _revision_file(folder: Path, name: str, revision: str, down_revision: str) -> None:
    (folder / f"{name}.py").write_text(
        f'"""{name}"""\n\nrevision: str = {revision}\ndown_revision: str | None = {down_revision}\n'
        "\n\ndef upgrade() -> None:\n    revision = 'not this one'\n"
    )


def test_heads_read_from_the_files_are_the_ones_alembic_finds() -> None:
    assert script_heads() == _alembic_heads()


def test_merges_and_branches_are_read_as_alembic_reads_them(tmp_path: Path) -> None:
    _revision_file(tmp_path, "a", '"a"', "None")
    _revision_file(tmp_path, "b", '"b"', '"a"')
    _revision_file(tmp_path, "c", "'c'", "'a'")
    assert script_heads(tmp_path) == frozenset({"b", "c"})

    _revision_file(tmp_path, "d", '"d"', '("b", "c")')
    (tmp_path / "__init__.py").write_text("")
    assert script_heads(tmp_path) == frozenset({"d"})


@pytest.mark.parametrize(
    ("revision", "down_revision"),
    [("make_id()", '"a"'), ('"b"', "PARENT"), ('"b"', "1"), ('"b"', '["a", 2]')],
)
def test_a_file_not_stated_plainly_leaves_the_answer_to_alembic(
    tmp_path: Path, revision: str, down_revision: str
) -> None:
    _revision_file(tmp_path, "a", '"a"', "None")
    _revision_file(tmp_path, "b", revision, down_revision)
    assert script_heads(tmp_path) is None


def test_a_file_without_a_revision_leaves_the_answer_to_alembic(tmp_path: Path) -> None:
    (tmp_path / "notes.py").write_text('"""Not a revision."""\n')
    assert script_heads(tmp_path) is None


async def test_a_new_database_is_migrated_then_left_alone(tmp_path: Path) -> None:
    settings = _settings(f"sqlite+aiosqlite:///{tmp_path / 'new.db'}")
    assert await recorded_revisions(settings) is None

    assert await upgrade_if_behind(settings) is True
    assert await recorded_revisions(settings) == _alembic_heads()

    assert await upgrade_if_behind(settings) is False
    assert await recorded_revisions(settings) == _alembic_heads()


async def test_a_database_one_revision_behind_is_brought_to_head(tmp_path: Path) -> None:
    settings = _settings(f"sqlite+aiosqlite:///{tmp_path / 'behind.db'}")
    await upgrade_if_behind(settings)
    await asyncio.to_thread(command.downgrade, alembic_config(settings), "-1")
    assert await recorded_revisions(settings) != _alembic_heads()

    assert await upgrade_if_behind(settings) is True
    assert await recorded_revisions(settings) == _alembic_heads()


# A new process: this one has loaded Alembic already.
_START_UP_CHECK_IN_A_NEW_PROCESS = (
    "import asyncio, sys\n"
    "from app.core.config import Settings\n"
    "from app.db.migrate import upgrade_if_behind\n"
    "settings = Settings(_env_file=None, environment='test', database_url=sys.argv[1])\n"
    "print(asyncio.run(upgrade_if_behind(settings)), 'alembic' in sys.modules)\n"
)


def _check_in_a_new_process(url: str) -> list[str]:
    completed = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", _START_UP_CHECK_IN_A_NEW_PROCESS, url],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.split()


async def test_a_restart_at_head_does_not_load_alembic(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'restart.db'}"
    assert await asyncio.to_thread(_check_in_a_new_process, url) == ["True", "True"]
    assert await asyncio.to_thread(_check_in_a_new_process, url) == ["False", "False"]


@pytest.mark.postgres
@needs_postgres
async def test_postgres_restart_at_head_does_not_load_alembic(postgres_admin_url: str) -> None:
    def scenario() -> list[list[str]]:
        with temporary_database(postgres_admin_url) as url:
            return [_check_in_a_new_process(url), _check_in_a_new_process(url)]

    assert await asyncio.to_thread(scenario) == [["True", "True"], ["False", "False"]]
