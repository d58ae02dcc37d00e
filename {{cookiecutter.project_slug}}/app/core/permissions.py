"""What each role may do: the one table every permission check reads.

Permissions are `area:verb` strings; a route declares the one it needs with
`require(...)` (app/api/access.py). Changing what a role may do is an edit here.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A member's role in an organisation; what each allows is the table below."""

    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"


READ = frozenset(
    {
        "agents:read",
        "conversations:read",
        "executions:read",
        "knowledge:read",
        "memories:read",
        "mcp:read",
        "workflows:read",
        "members:read",
        "organization:read",
    }
)
WRITE = frozenset(
    {
        "agents:write",
        "conversations:write",
        "executions:run",
        "knowledge:write",
        "memories:write",
        "mcp:write",
        "workflows:write",
        "workflows:run",
        "tools:run",
    }
)
MANAGE = frozenset(
    {"members:manage", "organization:manage", "audit:read", "budgets:manage", "usage:read"}
)
OWN = frozenset({"organization:delete", "owners:manage"})

PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.VIEWER: READ,
    Role.MEMBER: READ | WRITE,
    Role.ADMIN: READ | WRITE | MANAGE,
    Role.OWNER: READ | WRITE | MANAGE | OWN,
}
ALL_PERMISSIONS = frozenset().union(*PERMISSIONS.values())


def allows(role: Role, permission: str) -> bool:
    """Whether a role grants a permission; an unknown permission is granted to no one."""
    return permission in PERMISSIONS[role]
