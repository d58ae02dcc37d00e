"""Within one organisation, each role is refused exactly what its permissions leave out.

The matrix is read from the OpenAPI document when the test runs, where each route's
permission is its OAuth2 scope: every route that declares one is called by a viewer, a
member and an admin, with the ids of real resources of the team, and each call the role
table does not allow must be a 403 that changes nothing. A route added later is covered
without a line here, and a route that declares no permission must be on the short list
below of those that act outside any organisation.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi import FastAPI

from app.core.permissions import ALL_PERMISSIONS, PERMISSIONS, Role
from app.db.session import Database
from tests.support.factories import SignedInUser, UserFactory
from tests.support.openapi import admin_only, operations, snapshot
from tests.support.organizations import make_team
from tests.support.team_resources import make_resources, value_for

ROLES = (Role.VIEWER, Role.MEMBER, Role.ADMIN)


METHODS = ("get", "post", "put", "patch", "delete")
PATH_PARAMETER = re.compile(r"{(\w+)}")
API_PREFIXES = ("/api/v1/", "/v1/")
# Routes that act outside any organisation, so no role can allow or refuse them; the
# deployment administrators' own routes (documented "Administrators only") are not listed.
OUTSIDE_ORGANISATIONS = {
    # Signing up, in and out: there is no member yet, or the token is the whole story.
    ("post", "/api/v1/auth/register"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/refresh"),
    ("post", "/api/v1/auth/logout"),
    # One's own account, API keys and usage: a person's, whatever organisation they are in.
    ("get", "/api/v1/users/me"),
    ("patch", "/api/v1/users/me"),
    ("post", "/api/v1/api-keys"),
    ("get", "/api/v1/api-keys"),
    ("delete", "/api/v1/api-keys/{key_id}"),
    ("get", "/api/v1/usage"),
    # Creating an organisation, listing one's own, and joining one by invitation.
    ("post", "/api/v1/organizations"),
    ("get", "/api/v1/organizations"),
    ("post", "/api/v1/invitations/accept"),
    # The deployment's catalogue, the same in every organisation.
    ("get", "/api/v1/agent-templates"),
    ("get", "/api/v1/tools"),
    ("get", "/api/v1/tools/{name}"),
}


def _declared(operation: dict[str, Any]) -> list[str]:
    """The permissions an operation declares: its scopes in the security requirement."""
    return [
        scope
        for requirement in operation.get("security", [])
        for scopes in requirement.values()
        for scope in scopes
    ]


def _guarded_routes(app: FastAPI) -> list[tuple[str, str, str]]:
    """(method, path, permission) for every route that declares one."""
    found: list[tuple[str, str, str]] = []
    for path, item in app.openapi()["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            permissions = _declared(item[method])
            assert len(permissions) <= 1, (method, path, permissions)
            found.extend((method, path, permission) for permission in permissions)
    return found


def _message(body: dict[str, Any]) -> str:
    """The error's text, in this API's shape or, under /v1, the OpenAI one."""
    if "detail" in body:
        return str(body["detail"])
    return str(body["error"]["message"])


async def test_each_role_is_refused_what_its_permissions_leave_out(
    app: FastAPI,
    client: httpx.AsyncClient,
    users: UserFactory,
    me: SignedInUser,
    database: Database,
) -> None:
    team = await make_team(client, users, me, *ROLES)
    values = {**await make_resources(client, team), "user_id": team.members[Role.VIEWER].id}
    routes = _guarded_routes(app)
    unfilled = [
        f"{method.upper()} {path}: {name}"
        for method, path, _ in routes
        for name in PATH_PARAMETER.findall(path)
        if name != "name" and name not in values
    ]
    assert not unfilled, f"add a real value for these to make_resources: {unfilled}"
    before = await snapshot(database)
    refused = dict.fromkeys(ROLES, 0)
    for method, path, permission in routes:
        url = path.format(
            **{name: value_for(path, name, values) for name in PATH_PARAMETER.findall(path)}
        )
        for role in ROLES:
            if permission in PERMISSIONS[role]:
                continue
            response = await client.request(method, url, json={}, headers=team.headers(role))
            assert response.status_code == 403, (role, method, path, response.text)
            assert permission in _message(response.json()), (role, method, path)
            refused[role] += 1
    assert await snapshot(database) == before
    assert refused[Role.VIEWER] >= refused[Role.MEMBER] > refused[Role.ADMIN] > 0, refused


def test_every_organisation_route_declares_a_permission(app: FastAPI) -> None:
    """A route under an organisation's path with no permission would let any member in."""
    missing = [
        f"{method.upper()} {path}"
        for path, item in app.openapi()["paths"].items()
        for method in METHODS
        if method in item and "{organization_id}" in path and not _declared(item[method])
    ]
    assert not missing
    declared = {permission for _, _, permission in _guarded_routes(app)}
    assert {"members:manage", "organization:manage", "organization:delete"} <= declared
    assert declared <= ALL_PERMISSIONS


def test_every_api_route_declares_a_permission(app: FastAPI) -> None:
    """A route with no permission would let any member in, viewers included."""
    document = app.openapi()
    missing = [
        f"{method.upper()} {path}"
        for method, path, operation in operations(document)
        if path.startswith(API_PREFIXES)
        and not _declared(operation)
        and not admin_only(operation)
        and (method, path) not in OUTSIDE_ORGANISATIONS
    ]
    assert not missing, missing
    present = {(method, path) for method, path, _ in operations(document)}
    stale = OUTSIDE_ORGANISATIONS - present
    assert not stale, f"no longer routes: {stale}"
