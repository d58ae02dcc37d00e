"""An application that allows stdio connections, and test MCP servers to connect it to."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.support.factories import AppFactory, client_for
from tests.support.mcp_servers import http_mcp_server


@pytest.fixture
def mcp_url() -> Iterator[str]:
    with http_mcp_server() as url:
        yield url


@pytest.fixture
async def mcp_client(make_app: AppFactory) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app where stdio connections are enabled."""
    application = await make_app(mcp_allow_stdio=True)
    async with client_for(application) as client:
        yield client
