"""Invitations: a single-use token, for one email address, that expires."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import update

from app.db.session import Database
from app.db.types import utc_now
from app.models import Invitation
from tests.support.factories import SignedInUser, UserFactory
from tests.support.organizations import API, invite, make_team

ACCEPT = "/api/v1/invitations/accept"


async def test_accepting_joins_with_the_invited_role_once(
    client: httpx.AsyncClient, users: UserFactory, me: SignedInUser, stranger: SignedInUser
) -> None:
    team = await make_team(client, users, me)
    token = await invite(client, team.id, me, stranger.email.upper(), "viewer")

    accepted = await client.post(ACCEPT, json={"token": token}, headers=stranger.headers)
    again = await client.post(ACCEPT, json={"token": token}, headers=stranger.headers)

    assert accepted.status_code == 200
    assert accepted.json()["id"] == str(team.id)
    assert accepted.json()["role"] == "viewer"
    assert again.status_code == 404
    pending = await client.get(f"{API}/{team.id}/invitations", headers=me.headers)
    assert pending.json()["total"] == 0


async def test_the_token_only_works_for_the_invited_email(
    client: httpx.AsyncClient, users: UserFactory, me: SignedInUser, stranger: SignedInUser
) -> None:
    team = await make_team(client, users, me)
    token = await invite(client, team.id, me, "someone-else@example.com", "member")

    response = await client.post(ACCEPT, json={"token": token}, headers=stranger.headers)

    assert response.status_code == 404
    assert (await client.get(f"{API}/{team.id}", headers=stranger.headers)).status_code == 404


async def test_an_expired_or_revoked_invitation_is_refused(
    client: httpx.AsyncClient,
    users: UserFactory,
    database: Database,
    me: SignedInUser,
    stranger: SignedInUser,
) -> None:
    team = await make_team(client, users, me)
    expired = await invite(client, team.id, me, stranger.email, "member")
    async with database.transaction() as session:
        await session.execute(update(Invitation).values(expires_at=utc_now() - timedelta(1)))
    revoked = await invite(client, team.id, me, stranger.email, "member")
    listed = (await client.get(f"{API}/{team.id}/invitations", headers=me.headers)).json()
    newest = listed["items"][0]
    assert "token" not in newest

    revoke = await client.delete(f"{API}/{team.id}/invitations/{newest['id']}", headers=me.headers)

    assert revoke.status_code == 204
    for token in (expired, revoked):
        response = await client.post(ACCEPT, json={"token": token}, headers=stranger.headers)
        assert response.status_code == 404, token


async def test_an_admin_cannot_invite_an_owner_and_personal_workspaces_take_no_one(
    client: httpx.AsyncClient, users: UserFactory, me: SignedInUser
) -> None:
    team = await make_team(client, users, me, "admin")
    personal = (await client.get(API, headers=me.headers)).json()["items"][0]

    as_owner = await client.post(
        f"{API}/{team.id}/invitations",
        json={"email": "new@example.com", "role": "owner"},
        headers=team.headers("admin"),
    )
    into_personal = await client.post(
        f"{API}/{personal['id']}/invitations",
        json={"email": "new@example.com", "role": "member"},
        headers=me.headers,
    )

    assert as_owner.status_code == 403
    assert into_personal.status_code == 409
