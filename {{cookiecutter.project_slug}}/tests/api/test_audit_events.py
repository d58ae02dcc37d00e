"""Each security-relevant action leaves one audit entry naming who, what, from where."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.core.audit_chain import arguments_hash
from app.crud import organization as organization_crud
from app.crud.audit_verify import verify
from app.db.session import Database
from app.models import AuditEntry
from tests.support.factories import SignedInUser, UserFactory, client_for

API = "/api/v1"
ADDRESS = "203.0.113.9"


@pytest.fixture
async def peer(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client connecting from a known address."""
    async with client_for(app, client=(ADDRESS, 40000)) as http:
        yield http


async def _entries(database: Database, action: str) -> list[AuditEntry]:
    async with database.transaction() as session:
        rows = await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == action)
            .order_by(AuditEntry.created_at, AuditEntry.sequence)
        )
        return list(rows)


async def _personal_id(database: Database, user_id: uuid.UUID) -> uuid.UUID:
    async with database.transaction() as session:
        found = await organization_crud.get_personal_id(session, user_id=user_id)
    assert found is not None
    return found


async def _only(database: Database, action: str) -> AuditEntry:
    entries = await _entries(database, action)
    assert len(entries) == 1, [entry.action for entry in entries]
    return entries[0]


def _traced(request_id: str) -> dict[str, str]:
    return {"X-Request-ID": request_id}


async def _call(
    http: httpx.AsyncClient,
    method: str,
    path: str,
    user: SignedInUser,
    request_id: str,
    **options: Any,
) -> httpx.Response:
    headers = user.headers | _traced(request_id)
    return await http.request(method, f"{API}{path}", headers=headers, **options)


async def test_sign_ins_record_actor_address_and_request_id(
    peer: httpx.AsyncClient, users: UserFactory, database: Database
) -> None:
    me = await users.signed_in()
    login = {"username": me.email, "password": me.password}

    ok = await peer.post(f"{API}/auth/login", data=login, headers=_traced("login-ok"))
    assert ok.status_code == 200, ok.text
    entry = (await _entries(database, "auth.login"))[-1]
    assert entry.actor_id == me.id
    assert (entry.target_type, entry.target_id) == ("user", str(me.id))
    assert (entry.client_address, entry.request_id) == (ADDRESS, "login-ok")


async def test_a_failed_login_is_recorded_though_the_request_fails(
    peer: httpx.AsyncClient, users: UserFactory, database: Database
) -> None:
    me = await users.signed_in()
    wrong = {"username": me.email, "password": "not-the-password"}
    unknown = {"username": "nobody@example.com", "password": "whatever-42"}

    first = await peer.post(f"{API}/auth/login", data=wrong, headers=_traced("guess-1"))
    second = await peer.post(f"{API}/auth/login", data=unknown, headers=_traced("guess-2"))
    await users.deactivate(me.email)
    third = await peer.post(f"{API}/auth/login", data=login_of(me), headers=_traced("guess-3"))

    assert [first.status_code, second.status_code, third.status_code] == [401, 401, 401]
    failed = await _entries(database, "auth.login_failed")
    assert [(e.actor_id, e.target_id, e.details["reason"], e.request_id) for e in failed] == [
        (None, str(me.id), "wrong_password", "guess-1"),
        (None, None, "unknown_account", "guess-2"),
        (None, str(me.id), "disabled", "guess-3"),
    ]
    assert {entry.client_address for entry in failed} == {ADDRESS}
    assert all("not-the-password" not in str(entry.details) for entry in failed)
    personal = await _personal_id(database, me.id)
    assert [e.organization_id for e in failed] == [personal, None, personal]


def login_of(user: SignedInUser) -> dict[str, str]:
    return {"username": user.email, "password": user.password}


async def test_logout_and_a_reused_refresh_token_are_recorded(
    peer: httpx.AsyncClient, users: UserFactory, database: Database
) -> None:
    me = await users.signed_in()
    refreshed = await peer.post(f"{API}/auth/refresh", json={"refresh_token": me.refresh_token})
    reused = await peer.post(
        f"{API}/auth/refresh", json={"refresh_token": me.refresh_token}, headers=_traced("reuse")
    )
    assert (refreshed.status_code, reused.status_code) == (200, 401)
    fresh = refreshed.json()["access_token"]
    other = await users.signed_in()

    out = await _call(peer, "POST", "/auth/logout", other, "bye")

    assert out.status_code == 204, out.text
    reuse = await _only(database, "auth.refresh_reused")
    assert (reuse.actor_id, reuse.request_id, reuse.client_address) == (me.id, "reuse", ADDRESS)
    logout = await _only(database, "auth.logout")
    assert (logout.actor_id, logout.request_id, logout.client_address) == (other.id, "bye", ADDRESS)
    assert fresh


async def test_api_keys_created_and_revoked_are_recorded(
    peer: httpx.AsyncClient, me: SignedInUser, database: Database
) -> None:
    created = await _call(peer, "POST", "/api-keys", me, "key-new", json={"name": "ci"})
    assert created.status_code == 201, created.text
    key_id = created.json()["id"]
    revoked = await _call(peer, "DELETE", f"/api-keys/{key_id}", me, "key-gone")
    assert revoked.status_code == 204

    personal = await _personal_id(database, me.id)
    for action, request_id in (("api_key.created", "key-new"), ("api_key.revoked", "key-gone")):
        entry = await _only(database, action)
        assert entry.organization_id == personal
        assert (entry.actor_id, entry.target_type, entry.target_id) == (me.id, "api_key", key_id)
        assert (entry.request_id, entry.client_address) == (request_id, ADDRESS)
        assert entry.details["name"] == "ci"
        assert created.json()["key"] not in str(entry.details)


async def test_agent_changes_and_rollbacks_are_recorded(
    peer: httpx.AsyncClient, me: SignedInUser, database: Database
) -> None:
    body = {"name": "helper", "provider": "scripted", "model": "scripted"}
    created = await _call(peer, "POST", "/agents", me, "a-1", json=body)
    assert created.status_code == 201, created.text
    agent_id = created.json()["id"]
    patch = {"system_prompt": "Be brief."}
    assert (await _call(peer, "PATCH", f"/agents/{agent_id}", me, "a-2", json=patch)).is_success
    back = {"version": 1}
    assert (
        await _call(peer, "POST", f"/agents/{agent_id}/rollback", me, "a-3", json=back)
    ).is_success
    assert (await _call(peer, "DELETE", f"/agents/{agent_id}", me, "a-4")).status_code == 204

    expected = {
        "agent.created": ("a-1", {"name": "helper"}),
        "agent.updated": ("a-2", {"fields": ["system_prompt"], "version": 2}),
        "agent.rolled_back": ("a-3", {"from_version": 1, "version": 3}),
        "agent.deleted": ("a-4", {"name": "helper"}),
    }
    for action, (request_id, details) in expected.items():
        entry = await _only(database, action)
        assert (entry.actor_id, entry.target_type, entry.target_id) == (me.id, "agent", agent_id)
        assert (entry.request_id, entry.client_address, entry.details) == (
            request_id,
            ADDRESS,
            details,
        )


async def test_an_admin_changing_a_role_and_active_flag_is_recorded(
    peer: httpx.AsyncClient, users: UserFactory, database: Database
) -> None:
    admin = await users.signed_in(admin=True)
    member = await users.signed_in()
    change = {"role": "admin", "is_active": False}

    response = await _call(peer, "PATCH", f"/users/{member.id}", admin, "promote", json=change)

    assert response.status_code == 200, response.text
    entry = await _only(database, "admin.user_updated")
    assert (entry.actor_id, entry.target_type, entry.target_id) == (
        admin.id,
        "user",
        str(member.id),
    )
    assert entry.details == {"fields": ["is_active", "role"], "role": "admin", "is_active": False}
    assert (entry.request_id, entry.client_address) == ("promote", ADDRESS)


async def test_a_password_change_is_recorded_without_the_password(
    peer: httpx.AsyncClient, me: SignedInUser, database: Database
) -> None:
    new = {"password": "another-horse-43"}
    response = await _call(peer, "PATCH", "/users/me", me, "pw", json=new)

    assert response.status_code == 200, response.text
    entry = await _only(database, "user.updated")
    assert (entry.actor_id, entry.target_id, entry.details) == (
        me.id,
        str(me.id),
        {"fields": ["password"]},
    )


async def test_a_refused_admin_change_leaves_no_entry(
    peer: httpx.AsyncClient, users: UserFactory, database: Database
) -> None:
    """Demoting the last admin is rolled back, and so is anything it would have recorded."""
    admin = await users.signed_in(admin=True)
    demote = {"role": "user"}

    response = await _call(peer, "PATCH", f"/users/{admin.id}", admin, "demote", json=demote)

    assert response.status_code == 409, response.text
    assert await _entries(database, "admin.user_updated") == []


async def test_mcp_connection_and_workflow_changes_are_recorded(
    peer: httpx.AsyncClient, me: SignedInUser, database: Database
) -> None:
    connection = {"name": "tools", "url": "http://127.0.0.1:9/mcp"}
    made = await _call(peer, "POST", "/mcp-connections", me, "m-1", json=connection)
    assert made.status_code == 201, made.text
    path = f"/mcp-connections/{made.json()['id']}"
    assert (await _call(peer, "PATCH", path, me, "m-2", json={"name": "renamed"})).is_success
    assert (await _call(peer, "DELETE", path, me, "m-3")).status_code == 204
    agent = await _call(
        peer, "POST", "/agents", me, "w-0", json={"name": "w", "provider": "scripted"}
    )
    steps = [{"id": "answer", "type": "agent", "agent_id": agent.json()["id"]}]
    flow = await _call(peer, "POST", "/workflows", me, "w-1", json={"name": "f", "steps": steps})
    assert flow.status_code == 201, flow.text
    flow_path = f"/workflows/{flow.json()['id']}"
    assert (await _call(peer, "PATCH", flow_path, me, "w-2", json={"name": "g"})).is_success
    assert (await _call(peer, "DELETE", flow_path, me, "w-3")).status_code == 204

    for prefix, target in (("mcp_connection", made), ("workflow", flow)):
        for verb, suffix in (("created", "1"), ("updated", "2"), ("deleted", "3")):
            entry = await _only(database, f"{prefix}.{verb}")
            assert (entry.actor_id, entry.target_type) == (me.id, prefix)
            assert entry.target_id == target.json()["id"]
            assert entry.request_id == f"{prefix[0]}-{suffix}"
            assert entry.client_address == ADDRESS


async def test_a_direct_tool_call_records_the_tool_and_its_argument_hash(
    peer: httpx.AsyncClient, me: SignedInUser, database: Database
) -> None:
    arguments = {"expression": "6 * 7"}
    response = await _call(
        peer, "POST", "/tools/calculator/execute", me, "t-1", json={"arguments": arguments}
    )

    assert response.status_code == 200, response.text
    entry = await _only(database, "tool.executed")
    assert (entry.actor_id, entry.target_type, entry.target_id) == (me.id, "tool", "calculator")
    assert entry.details["arguments_sha256"] == arguments_hash(arguments)
    assert "6 * 7" not in str(entry.details)
    assert (entry.request_id, entry.client_address) == ("t-1", ADDRESS)


async def test_every_recorded_entry_leaves_the_chain_intact(
    peer: httpx.AsyncClient, users: UserFactory, database: Database
) -> None:
    me = await users.signed_in()
    await peer.post(f"{API}/auth/login", data={"username": me.email, "password": "wrong-1"})
    await _call(peer, "POST", "/api-keys", me, "k", json={"name": uuid.uuid4().hex})

    async with database.transaction() as session:
        outcome = await verify(session)
    assert outcome.ok, outcome.first_break
    assert outcome.entries == 4  # registered, signed in, failed sign-in, key created


async def test_account_events_are_in_the_users_personal_chain_which_the_user_reads(
    peer: httpx.AsyncClient, users: UserFactory, database: Database
) -> None:
    """Sign-ins, key changes and sign-outs are the account's story, not the deployment's."""
    me = await users.signed_in()
    await _call(peer, "POST", "/api-keys", me, "k", json={"name": "ci"})
    await peer.post(f"{API}/auth/login", data={"username": "ghost@example.com", "password": "x"})

    listed = await _call(peer, "GET", "/audit", me, "read")
    unknown = await _only(database, "auth.login_failed")

    assert listed.status_code == 200, listed.text
    actions = [item["action"] for item in listed.json()["items"]]
    assert actions == ["api_key.created", "auth.login", "auth.registered"]
    assert {item["organization_id"] for item in listed.json()["items"]} == {
        str(await _personal_id(database, me.id))
    }
    assert unknown.organization_id is None
