"""Each organisation's owners and admins read its own audit chain; administrators the rest."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import delete, update

from app.crud import audit as audit_crud
from app.db.session import Database
from app.models import AuditEntry
from tests.support.factories import AppFactory, SignedInUser, UserFactory, client_for
from tests.support.organizations import Team, make_team

AUDIT = "/api/v1/audit"
ADMIN_AUDIT = "/api/v1/admin/audit"
PATHS = ("", "/export", "/verify")


@pytest.fixture
async def admin(users: UserFactory) -> SignedInUser:
    return await users.signed_in(admin=True)


@pytest.fixture
async def team(client: httpx.AsyncClient, users: UserFactory, me: SignedInUser) -> Team:
    return await make_team(client, users, me, "viewer", "member", "admin")


async def _seed(
    database: Database, actor: uuid.UUID, organization_id: uuid.UUID | None
) -> list[AuditEntry]:
    """Four entries of two actions in one chain, two of them by `actor`."""
    entries = []
    for action, actor_id, target in (
        ("agent.created", actor, "a1"),
        ("agent.deleted", actor, "a1"),
        ("agent.created", None, "a2"),
        ("agent.created", uuid.uuid4(), "a3"),
    ):
        async with database.transaction() as session:
            entry = await audit_crud.record(
                session,
                action=action,
                organization_id=organization_id,
                actor_id=actor_id,
                target_type="agent",
                target_id=target,
            )
        entries.append(entry)
    return entries


async def test_owners_and_admins_read_their_organisations_log(
    client: httpx.AsyncClient, team: Team, stranger: SignedInUser
) -> None:
    for path in PATHS:
        for role in ("owner", "admin"):
            answer = await client.get(f"{AUDIT}{path}", headers=team.headers(role))
            assert answer.status_code == 200, (path, role, answer.text)
        for role in ("viewer", "member"):
            refused = await client.get(f"{AUDIT}{path}", headers=team.headers(role))
            assert refused.status_code == 403, (path, role)
            assert "audit:read" in refused.json()["detail"]
        assert (await client.get(f"{AUDIT}{path}")).status_code == 401
        outsider = {**stranger.headers, "X-Organization-Id": str(team.id)}
        assert (await client.get(f"{AUDIT}{path}", headers=outsider)).status_code == 404


async def test_an_organisation_sees_only_its_own_chain(
    client: httpx.AsyncClient, team: Team, me: SignedInUser, database: Database
) -> None:
    actor = uuid.uuid4()
    ours = await _seed(database, actor, team.id)
    await _seed(database, actor, None)
    await _seed(database, actor, uuid.uuid4())

    listed = await client.get(AUDIT, params={"actor_id": str(actor)}, headers=team.headers("admin"))
    exported = await client.get(
        f"{AUDIT}/export", params={"actor_id": str(actor)}, headers=team.headers("owner")
    )
    personal = await client.get(AUDIT, params={"actor_id": str(actor)}, headers=me.headers)

    assert [item["id"] for item in listed.json()["items"]] == [str(e.id) for e in ours[1::-1]]
    assert {item["organization_id"] for item in listed.json()["items"]} == {str(team.id)}
    assert [json.loads(line)["id"] for line in exported.text.splitlines()] == [
        str(e.id) for e in ours[1::-1]
    ]
    assert personal.json()["total"] == 0


async def test_the_list_filters_and_pages_newest_first(
    client: httpx.AsyncClient, team: Team, database: Database
) -> None:
    actor = uuid.uuid4()
    seeded = await _seed(database, actor, team.id)

    async def ids(**params: str | int) -> list[str]:
        response = await client.get(AUDIT, params=params, headers=team.headers("owner"))
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    created = [str(e.id) for e in reversed(seeded) if e.action == "agent.created"]
    assert await ids(action="agent.created", target_type="agent") == created
    assert await ids(actor_id=str(actor)) == [str(seeded[1].id), str(seeded[0].id)]
    assert await ids(target_id="a1", action="agent.deleted") == [str(seeded[1].id)]
    assert await ids(target_type="agent", limit=2, skip=1) == [str(seeded[2].id), str(seeded[1].id)]
    later = (seeded[-1].created_at + timedelta(seconds=1)).isoformat()
    assert await ids(target_type="agent", since=later) == []
    assert len(await ids(target_type="agent", until=later)) == 4
    page = (
        await client.get(AUDIT, params={"target_type": "agent"}, headers=team.headers("owner"))
    ).json()
    assert (page["total"], page["skip"], page["limit"]) == (4, 0, 20)
    first = page["items"][-1]
    assert first["sequence"] >= 1
    assert len(first["entry_hash"]) == 64


async def test_bad_filters_are_422s(client: httpx.AsyncClient, me: SignedInUser) -> None:
    naive = datetime.now(UTC).replace(tzinfo=None).isoformat()
    for params in (
        {"since": naive},
        {"until": "0001-01-01T00:00:00+01:00"},
        {"actor_id": "nope"},
        {"action": "x" * 65},
        {"limit": 0},
    ):
        response = await client.get(AUDIT, params=params, headers=me.headers)
        assert response.status_code == 422, params


async def test_the_export_streams_matching_entries_as_json_lines(
    client: httpx.AsyncClient, team: Team, database: Database
) -> None:
    actor = uuid.uuid4()
    seeded = await _seed(database, actor, team.id)

    response = await client.get(
        f"{AUDIT}/export", params={"actor_id": str(actor)}, headers=team.headers("admin")
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["id"] for line in lines] == [str(seeded[1].id), str(seeded[0].id)]
    assert lines[0]["previous_hash"] == seeded[0].entry_hash
    assert response.text.endswith("\n")


async def test_verify_passes_then_names_the_tampered_row(
    client: httpx.AsyncClient, team: Team, database: Database
) -> None:
    seeded = await _seed(database, uuid.uuid4(), team.id)
    clean = (await client.get(f"{AUDIT}/verify", headers=team.headers("admin"))).json()
    assert clean["ok"] is True
    assert clean["first_break"] is None
    assert (clean["chains"], clean["entries"]) == (1, seeded[-1].sequence)

    async with database.transaction() as session:
        await session.execute(
            update(AuditEntry).where(AuditEntry.id == seeded[2].id).values(target_id="a9")
        )
    tampered = (await client.get(f"{AUDIT}/verify", headers=team.headers("admin"))).json()

    assert tampered["ok"] is False
    broken = tampered["first_break"]
    assert (broken["entry_id"], broken["sequence"]) == (str(seeded[2].id), seeded[2].sequence)
    assert broken["organization_id"] == str(team.id)
    assert "does not match its contents" in broken["problem"]


async def test_verify_catches_a_deleted_row(
    client: httpx.AsyncClient, team: Team, database: Database
) -> None:
    seeded = await _seed(database, uuid.uuid4(), team.id)
    async with database.transaction() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.id == seeded[1].id))

    result = (await client.get(f"{AUDIT}/verify", headers=team.headers("owner"))).json()

    assert result["ok"] is False
    assert result["first_break"]["sequence"] == seeded[1].sequence
    assert "missing" in result["first_break"]["problem"]


async def test_a_break_elsewhere_fails_only_the_administrators_check(
    client: httpx.AsyncClient, team: Team, admin: SignedInUser, database: Database
) -> None:
    """An organisation verifies its own chain; administrators verify every chain."""
    await _seed(database, uuid.uuid4(), team.id)
    elsewhere = await _seed(database, uuid.uuid4(), uuid.uuid4())
    async with database.transaction() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.id == elsewhere[0].id))

    ours = (await client.get(f"{AUDIT}/verify", headers=team.headers("owner"))).json()
    every = (await client.get(f"{ADMIN_AUDIT}/verify", headers=admin.headers)).json()

    assert ours["ok"] is True
    assert every["ok"] is False
    assert every["chains"] > 1
    assert every["first_break"]["organization_id"] == str(elsewhere[0].organization_id)


async def test_administrators_alone_read_the_deployments_own_chain(
    client: httpx.AsyncClient, me: SignedInUser, admin: SignedInUser, database: Database
) -> None:
    actor = uuid.uuid4()
    deployment = await _seed(database, actor, None)
    await _seed(database, actor, uuid.uuid4())

    for path in PATHS:
        refused = await client.get(f"{ADMIN_AUDIT}{path}", headers=me.headers)
        assert refused.status_code == 403, path
        assert refused.json()["detail"] == "Administrator privileges required"
    listed = await client.get(ADMIN_AUDIT, params={"actor_id": str(actor)}, headers=admin.headers)
    exported = await client.get(
        f"{ADMIN_AUDIT}/export", params={"actor_id": str(actor)}, headers=admin.headers
    )

    assert [item["id"] for item in listed.json()["items"]] == [str(e.id) for e in deployment[1::-1]]
    assert {item["organization_id"] for item in listed.json()["items"]} == {None}
    assert len(exported.text.splitlines()) == 2


async def test_the_address_is_the_client_a_trusted_proxy_names(
    make_app: AppFactory, database: Database
) -> None:
    """The same address rate limits see: the proxy's last hop, never what the client wrote."""
    app = await make_app(trusted_proxies=["10.0.0.7"])
    form = {"username": "someone@example.com", "password": "guess-1"}
    async with client_for(app, client=("10.0.0.7", 40000)) as http:
        forged = {"X-Forwarded-For": "192.0.2.1, 198.51.100.4"}
        response = await http.post("/api/v1/auth/login", data=form, headers=forged)

    assert response.status_code == 401
    async with database.transaction() as session:
        page, _ = await audit_crud.get_page(
            session,
            organization_id=None,
            where=audit_crud.AuditFilter(action="auth.login_failed"),
            skip=0,
            limit=5,
        )
    assert [entry.client_address for entry in page] == ["198.51.100.4"]
