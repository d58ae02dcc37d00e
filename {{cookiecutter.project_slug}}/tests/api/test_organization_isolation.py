"""Organisation A's ids lead nowhere from anywhere else: every route with a path id is a 404.

The routes are read from the OpenAPI document when the test runs. One of each resource is
made in organisation A through the API; then a user who belongs to A and to B, acting in
B, and a stranger in their personal workspace call every route with A's ids, and nothing
in the database moves. A path parameter this file cannot fill fails the test naming the
route, so a route added later is covered or loudly missing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from app.db.session import Database
from tests.support.factories import SignedInUser, UserFactory
from tests.support.openapi import admin_only, fill, json_body, operations, path_parameters, snapshot
from tests.support.organizations import API, Team, join, make_team
from tests.support.team_resources import make_resources

# Path parameters that name the deployment's catalogue, the same in every organisation
# (tools, agent templates, health checks): no organisation owns what they name.
CATALOGUE = frozenset({"name", "service"})


@dataclass(frozen=True)
class Arranged:
    """Organisation A with one of each resource, and the two outsiders who try its ids."""

    team: Team
    ids: dict[str, Any]
    both: SignedInUser
    both_headers: dict[str, str]
    stranger: SignedInUser


async def _arrange(
    client: httpx.AsyncClient, users: UserFactory, me: SignedInUser, stranger: SignedInUser
) -> Arranged:
    team = await make_team(client, users, me)
    both = await join(client, users, team.id, me, "admin")
    other = await client.post(API, json={"name": "Beta"}, headers=both.headers)
    assert other.status_code == 201, other.text
    ids = await make_resources(client, team)
    return Arranged(
        team=team,
        ids=ids,
        both=both,
        both_headers={**both.headers, "X-Organization-Id": other.json()["id"]},
        stranger=stranger,
    )


def _expected(operation: dict[str, Any]) -> int:
    """404 for all but the administrators' routes, which refuse anyone else with a 403."""
    return 403 if admin_only(operation) else 404


async def test_organisation_a_ids_are_not_found_from_b_or_outside_and_change_nothing(
    app: FastAPI,
    client: httpx.AsyncClient,
    users: UserFactory,
    me: SignedInUser,
    stranger: SignedInUser,
    database: Database,
) -> None:
    document = app.openapi()
    arranged = await _arrange(client, users, me, stranger)
    before = await snapshot(database)
    wrong: list[str] = []
    covered = 0
    for method, path, operation in operations(document):
        names = set(path_parameters(operation))
        if not names or names <= CATALOGUE:
            continue
        unknown = sorted(names - set(arranged.ids))
        assert not unknown, f"{method.upper()} {path}: add how to make {unknown} in organisation A"
        callers = [("stranger", arranged.stranger.headers, arranged.ids)]
        if names != {"organization_id"}:
            # Acting in B, the path's organisation is B, and every other id is A's. A route
            # naming an organisation and nothing else acts on that organisation itself,
            # which a member of A may reach by naming A; the stranger covers those.
            in_b = {**arranged.ids, "organization_id": arranged.both_headers["X-Organization-Id"]}
            callers.append(("member of A and B, acting in B", arranged.both_headers, in_b))
        for who, headers, values in callers:
            response = await client.request(
                method,
                fill(path, {name: values[name] for name in names}),
                json=json_body(document, operation, arranged.ids),
                headers={**headers, "Accept": "application/json"},
            )
            if response.status_code != _expected(operation):
                wrong.append(
                    f"{who}: {method.upper()} {path} -> {response.status_code} {response.text[:120]}"
                )
            covered += 1
    assert not wrong, json.dumps(wrong, indent=1)
    assert await snapshot(database) == before
    assert covered >= 40, covered
