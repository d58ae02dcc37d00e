"""`app.main`: importing it builds nothing; `app.main:app` serves under a real uvicorn."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from app.core.config import PROJECT_ROOT
from tests.support.live_server import free_port
from tests.support.waiting import wait_until

ADMIN_PASSWORD = "first-admin-42"


def _child_env(**extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "FIRST_ADMIN"))}
    return keep | extra


def test_importing_main_reads_no_settings_and_builds_no_app() -> None:
    """Production settings without a SECRET_KEY would refuse to load: the import must not try."""
    probe = "import app.main as m; print('app' in vars(m), 'app' in dir(m), callable(m.create_app))"
    completed = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", probe],
        cwd=PROJECT_ROOT,
        env=_child_env(ENVIRONMENT="production", SECRET_KEY=""),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["False", "True", "True"]


def test_building_the_app_loads_no_library_that_only_some_requests_need() -> None:
    """Start-up stays short: SDKs, numpy, Alembic, httpx, JWT and passlib load when first used."""
    lazy = (
        "{'openai', 'anthropic', 'google.genai', 'numpy', 'alembic', 'httpx', 'pypdf', 'jose',"
        " 'cryptography', 'passlib'}"
    )
    probe = f"import sys, app.main as m; m.create_app(); print(sorted({lazy} & set(sys.modules)))"
    completed = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", probe],
        cwd=PROJECT_ROOT,
        env=_child_env(AUTO_MIGRATE="false"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"


def test_starting_the_app_leaves_the_mcp_sdk_to_the_first_mcp_call(tmp_path: Path) -> None:
    """Half a second of start-up that a process serving no MCP client never needs."""
    probe = (
        "import asyncio, sys, app.main as m\n"
        "async def main():\n"
        "    application = m.create_app()\n"
        "    async with application.router.lifespan_context(application):\n"
        "        print(sorted(name for name in sys.modules if name.split('.')[0] == 'mcp'))\n"
        "asyncio.run(main())\n"
    )
    completed = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", probe],
        cwd=PROJECT_ROOT,
        env=_child_env(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().splitlines()[-1] == "[]"


def test_importing_main_leaves_garbage_collection_on_and_the_import_out_of_it() -> None:
    """The collector paused for the import is back on; what the import made is frozen."""
    probe = "import gc, app.main; print(gc.isenabled(), gc.get_freeze_count() > 100_000)"
    completed = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", probe],
        cwd=PROJECT_ROOT,
        env=_child_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["True", "True"]


def test_unknown_attribute_is_still_an_attribute_error() -> None:
    import app.main

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = app.main.nope


@pytest.mark.slow
def test_uvicorn_serves_the_module_level_app_with_the_first_admin(tmp_path: Path) -> None:
    """`uvicorn app.main:app` serves as the README's production command runs it.

    On a fresh SQLite file, in a folder not made yet (as `data/` on a first `make dev`), it
    migrates, creates FIRST_ADMIN_EMAIL once, and serves requests.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = _child_env(
        ENVIRONMENT="test",
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'data' / 'served.db'}",
        FIRST_ADMIN_EMAIL="root@example.com",
        FIRST_ADMIN_PASSWORD=ADMIN_PASSWORD,
    )
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and uvicorn
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:

        def healthy() -> bool:
            if server.poll() is not None:
                raise AssertionError(
                    f"uvicorn exited: {server.stdout.read() if server.stdout else ''}"
                )
            try:
                return httpx.get(f"{base}/health", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(healthy, timeout=60, message="uvicorn app.main:app never answered /health")
        login = httpx.post(
            f"{base}/api/v1/auth/login",
            data={"username": "root@example.com", "password": ADMIN_PASSWORD},
        )
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        me = httpx.get(f"{base}/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["role"] == "admin"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
