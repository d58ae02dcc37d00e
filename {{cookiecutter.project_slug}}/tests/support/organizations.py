"""Organisations arranged through the public API, with members in the roles a test needs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx

from tests.support.factories import SignedInUser, UserFactory

API = "/api/v1/organizations"


@dataclass(frozen=True)
class Team:
    """An organisation and one signed-in member per role."""

    id: uuid.UUID
    owner: SignedInUser
    members: dict[str, SignedInUser]

    def headers(self, role: str) -> dict[str, str]:
        """The role's credentials, acting in this organisation."""
        user = self.owner if role == "owner" else self.members[role]
        return {**user.headers, "X-Organization-Id": str(self.id)}


async def invite(
    client: httpx.AsyncClient, organization_id: uuid.UUID, by: SignedInUser, email: str, role: str
) -> str:
    """An invitation's token, made by a member who may invite."""
    response = await client.post(
        f"{API}/{organization_id}/invitations",
        json={"email": email, "role": role},
        headers=by.headers,
    )
    assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    return token


async def join(
    client: httpx.AsyncClient,
    users: UserFactory,
    organization_id: uuid.UUID,
    by: SignedInUser,
    role: str,
) -> SignedInUser:
    """A new user who has accepted an invitation with this role."""
    member = await users.signed_in()
    token = await invite(client, organization_id, by, member.email, role)
    response = await client.post(
        "/api/v1/invitations/accept", json={"token": token}, headers=member.headers
    )
    assert response.status_code == 200, response.text
    return member


async def make_team(
    client: httpx.AsyncClient, users: UserFactory, owner: SignedInUser, *roles: str
) -> Team:
    """A new organisation owned by `owner`, with a new member in each of `roles`."""
    response = await client.post(API, json={"name": "Acme"}, headers=owner.headers)
    assert response.status_code == 201, response.text
    organization_id = uuid.UUID(response.json()["id"])
    members = {role: await join(client, users, organization_id, owner, role) for role in roles}
    return Team(id=organization_id, owner=owner, members=members)
