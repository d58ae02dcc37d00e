"""A small MCP server built with the `mcp` SDK, run by tests in a subprocess.

`python -m tests.support.mcp_server stdio` serves over stdin/stdout;
`python -m tests.support.mcp_server http PORT` serves streamable HTTP at /mcp.
Its tools cover what a client must survive: an error, a slow call, a process that dies
in the middle of a call, and a result far larger than any cap.
"""

from __future__ import annotations

import asyncio
import os
import sys

from mcp.server.mcpserver import MCPServer

server = MCPServer("test-tools")


@server.tool()
async def add(a: int, b: int) -> str:
    """Add two integers."""
    return str(a + b)


@server.tool()
async def fail(reason: str) -> str:
    """Always fails with the reason given."""
    raise ValueError(reason)


@server.tool()
async def slow(seconds: float) -> str:
    """Answer after the given number of seconds."""
    await asyncio.sleep(seconds)
    return f"slept {seconds}"


@server.tool()
async def die() -> str:
    """End the server process in the middle of the call."""
    os._exit(3)


@server.tool()
async def huge(size: int) -> str:
    """A result of `size` characters with NUL characters in it."""
    return "\x00" + "x" * size + "\x00end"


def main() -> None:
    """Serve on the transport the command line names."""
    if sys.argv[1] == "stdio":
        server.run("stdio")
    else:
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))


if __name__ == "__main__":
    main()
