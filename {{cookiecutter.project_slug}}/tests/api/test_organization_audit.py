"""Membership and organisation changes are audited in the organisation's own chain."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select

from app.crud.audit_verify import verify
from app.db.session import Database
from app.models import AuditEntry
from tests.support.factories import SignedInUser, UserFactory
from tests.support.organizations import API, invite, make_team


async def _chain(database: Database, organization_id: uuid.UUID) -> list[AuditEntry]:
    async with database.transaction() as session:
        rows = await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.organization_id == organization_id)
            .order_by(AuditEntry.sequence)
        )
        return list(rows)


async def test_a_teams_life_is_one_unbroken_chain_of_who_did_what(
    client: httpx.AsyncClient, users: UserFactory, me: SignedInUser, database: Database
) -> None:
    team = await make_team(client, users, me, "member")
    member = team.members["member"]
    promoted = await client.patch(
        f"{API}/{team.id}/members/{member.id}", json={"role": "admin"}, headers=me.headers
    )
    assert promoted.status_code == 200, promoted.text
    await invite(client, team.id, me, "later@example.com", "viewer")
    pending = await client.get(f"{API}/{team.id}/invitations", headers=me.headers)
    invitation_id = pending.json()["items"][0]["id"]
    revoked = await client.delete(
        f"{API}/{team.id}/invitations/{invitation_id}", headers=me.headers
    )
    assert revoked.status_code == 204
    left = await client.post(f"{API}/{team.id}/leave", headers=member.headers)
    assert left.status_code == 204
    renamed = await client.patch(f"{API}/{team.id}", json={"name": "Acme Ltd"}, headers=me.headers)
    assert renamed.status_code == 200

    entries = await _chain(database, team.id)

    assert [(e.action, e.actor_id) for e in entries] == [
        ("organization.created", me.id),
        ("invitation.created", me.id),
        ("member.joined", member.id),
        ("member.role_changed", me.id),
        ("invitation.created", me.id),
        ("invitation.revoked", me.id),
        ("member.left", member.id),
        ("organization.renamed", me.id),
    ]
    changed = entries[3]
    assert changed.target_id == str(member.id)
    assert changed.details == {"from": "member", "to": "admin"}
    assert [entry.sequence for entry in entries] == list(range(1, len(entries) + 1))
    async with database.transaction() as session:
        assert (await verify(session)).ok


async def test_a_refused_role_change_leaves_no_entry(
    client: httpx.AsyncClient, users: UserFactory, me: SignedInUser, database: Database
) -> None:
    team = await make_team(client, users, me, "admin")
    refused = await client.patch(
        f"{API}/{team.id}/members/{me.id}", json={"role": "member"}, headers=team.headers("admin")
    )
    assert refused.status_code in (403, 409), refused.text

    actions = [entry.action for entry in await _chain(database, team.id)]

    assert "member.role_changed" not in actions
