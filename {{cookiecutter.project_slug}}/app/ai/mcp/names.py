"""Tool names: `mcp:<connection>:<tool>` in an agent, `mcp__<connection>__<tool>` to a model.

Vendors accept only letters, digits, `_` and `-` in a function name, so the model sees the
second form; connection names have no `_`, so it maps back one way only.
"""

from __future__ import annotations

import re

PREFIX = "mcp"
# Where the /mcp endpoint leaves the authenticated caller's id, in the request's state.
USER_KEY = "mcp_user_id"
# ...and the organisation it acts in, with what its role there allows.
ORGANIZATION_KEY = "mcp_organization_id"
PERMISSIONS_KEY = "mcp_permissions"
_AGENT_NAME = re.compile(r"^mcp:([a-z0-9][a-z0-9-]{0,31}):([A-Za-z0-9_-]{1,64})$")
_MODEL_NAME = re.compile(r"^mcp__([a-z0-9][a-z0-9-]{0,31})__([A-Za-z0-9_-]{1,64})$")


def agent_tool_name(connection: str, tool: str) -> str:
    """What an agent lists in `tools` to enable `tool` of `connection`."""
    return f"{PREFIX}:{connection}:{tool}"


def model_tool_name(connection: str, tool: str) -> str:
    """What the model is offered and calls."""
    return f"{PREFIX}__{connection}__{tool}"


def split_agent_name(name: str) -> tuple[str, str] | None:
    """(connection, tool) of an agent's MCP tool name, or None for any other name."""
    match = _AGENT_NAME.fullmatch(name)
    return None if match is None else (match[1], match[2])


def agent_name_of_model_name(name: str) -> str | None:
    """The agent's name for a tool the model called, or None when it is not an MCP tool."""
    match = _MODEL_NAME.fullmatch(name)
    return None if match is None else agent_tool_name(match[1], match[2])


_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def ask_tool_names(agents: list[tuple[str, str]]) -> dict[str, str]:
    """`ask_<agent>` tool names for (id, name) pairs, each unique: tool name to agent id.

    Characters MCP clients refuse become `_`; names that still collide get the id's start.
    """
    chosen: dict[str, str] = {}
    for agent_id, name in agents:
        base = "ask_" + (_UNSAFE.sub("_", name).strip("_")[:60] or "agent")
        candidate = base if base not in chosen else f"{base}_{agent_id[:8]}"
        chosen[candidate] = agent_id
    return chosen
