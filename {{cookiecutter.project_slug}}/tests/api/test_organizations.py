"""Organisations: the personal workspace, creating, listing, renaming and deleting."""

from __future__ import annotations

import uuid

import httpx

from tests.support.factories import SignedInUser, UserFactory
from tests.support.organizations import API, make_team


async def test_a_new_account_has_only_its_personal_workspace(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    response = await client.get(API, headers=me.headers)

    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 1
    assert body["items"][0] | {"id": None, "created_at": None} == {
        "id": None,
        "name": "Personal",
        "is_personal": True,
        "role": "owner",
        "created_at": None,
    }


async def test_the_creator_owns_a_new_organisation_listed_after_the_personal_one(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    created = await client.post(API, json={"name": "  Acme  "}, headers=me.headers)

    assert created.status_code == 201
    assert created.json()["name"] == "Acme"
    assert created.json()["role"] == "owner"
    listed = (await client.get(API, headers=me.headers)).json()["items"]
    assert [item["name"] for item in listed] == ["Personal", "Acme"]


async def test_rename_needs_admin_and_delete_needs_owner(
    client: httpx.AsyncClient, users: UserFactory, me: SignedInUser
) -> None:
    team = await make_team(client, users, me, "admin", "member")
    url = f"{API}/{team.id}"

    as_member = await client.patch(url, json={"name": "Nope"}, headers=team.headers("member"))
    as_admin = await client.patch(url, json={"name": "Acme Ltd"}, headers=team.headers("admin"))
    admin_delete = await client.delete(url, headers=team.headers("admin"))

    assert as_member.status_code == 403
    assert "organization:manage" in as_member.json()["detail"]
    assert as_admin.status_code == 200
    assert as_admin.json() | {"created_at": None} == {
        "id": str(team.id),
        "name": "Acme Ltd",
        "is_personal": False,
        "role": "admin",
        "created_at": None,
    }
    assert admin_delete.status_code == 403
    assert (await client.delete(url, headers=me.headers)).status_code == 204
    assert (await client.get(url, headers=me.headers)).status_code == 404


async def test_the_personal_workspace_cannot_be_deleted(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    personal = (await client.get(API, headers=me.headers)).json()["items"][0]

    response = await client.delete(f"{API}/{personal['id']}", headers=me.headers)

    assert response.status_code == 409
    assert "personal" in response.json()["detail"]


async def test_organisations_of_others_and_bad_ids_are_not_found(
    client: httpx.AsyncClient, users: UserFactory, me: SignedInUser, stranger: SignedInUser
) -> None:
    team = await make_team(client, users, me)

    theirs = await client.get(f"{API}/{team.id}", headers=stranger.headers)
    missing = await client.get(f"{API}/{uuid.uuid4()}", headers=me.headers)
    malformed = await client.get(f"{API}/not-an-id", headers=me.headers)

    assert theirs.status_code == 404
    assert theirs.json() == {"detail": "Organization not found"}
    assert missing.status_code == 404
    assert malformed.status_code == 422
