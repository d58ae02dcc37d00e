"""Members: roles change within what the actor's role allows, and an owner always remains."""

from __future__ import annotations

import httpx

from tests.support.factories import SignedInUser, UserFactory
from tests.support.organizations import API, make_team


async def test_members_are_listed_with_their_roles(
    client: httpx.AsyncClient, users: UserFactory, me: SignedInUser
) -> None:
    team = await make_team(client, users, me, "viewer")

    response = await client.get(f"{API}/{team.id}/members", headers=team.headers("viewer"))

    assert response.status_code == 200
    assert [(item["email"], item["role"]) for item in response.json()["items"]] == [
        (me.email, "owner"),
        (team.members["viewer"].email, "viewer"),
    ]


async def test_an_admin_changes_and_removes_members_but_not_owners(
    client: httpx.AsyncClient, users: UserFactory, me: SignedInUser
) -> None:
    team = await make_team(client, users, me, "admin", "member", "viewer")
    admin = team.headers("admin")
    members = f"{API}/{team.id}/members"

    promoted = await client.patch(
        f"{members}/{team.members['viewer'].id}", json={"role": "member"}, headers=admin
    )
    to_owner = await client.patch(
        f"{members}/{team.members['member'].id}", json={"role": "owner"}, headers=admin
    )
    demote_owner = await client.patch(f"{members}/{me.id}", json={"role": "admin"}, headers=admin)
    remove_owner = await client.delete(f"{members}/{me.id}", headers=admin)
    removed = await client.delete(f"{members}/{team.members['member'].id}", headers=admin)

    assert promoted.status_code == 200
    assert promoted.json()["role"] == "member"
    assert to_owner.status_code == 403
    assert demote_owner.status_code == 403
    assert remove_owner.status_code == 403
    assert removed.status_code == 204
    left = await client.get(f"{API}/{team.id}", headers={**team.members["member"].headers})
    assert left.status_code == 404


async def test_a_member_cannot_manage_members(
    client: httpx.AsyncClient, users: UserFactory, me: SignedInUser
) -> None:
    team = await make_team(client, users, me, "member", "viewer")

    response = await client.patch(
        f"{API}/{team.id}/members/{team.members['viewer'].id}",
        json={"role": "admin"},
        headers=team.headers("member"),
    )

    assert response.status_code == 403
    assert "members:manage" in response.json()["detail"]


async def test_the_last_owner_can_neither_leave_nor_be_demoted(
    client: httpx.AsyncClient, users: UserFactory, me: SignedInUser
) -> None:
    team = await make_team(client, users, me, "admin")

    leave = await client.post(f"{API}/{team.id}/leave", headers=me.headers)
    demote = await client.patch(
        f"{API}/{team.id}/members/{me.id}", json={"role": "member"}, headers=me.headers
    )

    assert leave.status_code == 409
    assert "owner" in leave.json()["detail"]
    assert demote.status_code == 409


async def test_an_owner_may_leave_once_another_owner_exists(
    client: httpx.AsyncClient, users: UserFactory, me: SignedInUser
) -> None:
    team = await make_team(client, users, me, "admin")
    admin = team.members["admin"]
    promoted = await client.patch(
        f"{API}/{team.id}/members/{admin.id}", json={"role": "owner"}, headers=me.headers
    )

    leave = await client.post(f"{API}/{team.id}/leave", headers=me.headers)

    assert promoted.status_code == 200
    assert leave.status_code == 204
    assert (await client.get(f"{API}/{team.id}", headers=me.headers)).status_code == 404
    assert (await client.get(f"{API}/{team.id}", headers=admin.headers)).json()["role"] == "owner"


async def test_nobody_leaves_a_personal_workspace(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    personal = (await client.get(API, headers=me.headers)).json()["items"][0]

    response = await client.post(f"{API}/{personal['id']}/leave", headers=me.headers)

    assert response.status_code == 409
