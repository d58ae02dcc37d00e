"""Another user's ids lead nowhere: every route with an id in its path answers 404.

The matrix is read from the application's OpenAPI document when the test runs, so a
route added later is covered without a line here. A route whose id this file does not
know how to make fails the test until one is added to `OWNED_IDS`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI
from sqlalchemy import select

from app.ai.knowledge import ingestion, repository
from app.ai.knowledge.chunking import ChunkingOptions
from app.ai.knowledge.embedders.hashing import HashingEmbedder
from app.ai.knowledge.repository import DocumentUpload
from app.ai.memory import store
from app.core.sealing import Sealer
from app.crud import api_key as api_key_crud
from app.crud import mcp_connection as mcp_crud
from app.crud import membership as membership_crud
from app.crud import organization as organization_crud
from app.db.base import Base
from app.db.session import Database
from app.db.types import utc_now
from app.models import Role, Workflow, WorkflowRun, WorkflowRunStatus
from app.schemas.mcp_connection import McpConnectionCreate
from tests.support.builders import Builder
from tests.support.factories import SignedInUser

METHODS = ("get", "post", "put", "patch", "delete")
# Path parameters that are not ids, with a value that exists in the owner's resources.
OTHER_PATH_VALUES = {"step": "only", "scope_kind": "user"}


async def _owned_ids(build: Builder, owner: SignedInUser) -> dict[str, uuid.UUID]:
    """One of each resource the owner has, keyed by the path parameter that names it."""
    agent = await build.agent(owner_id=owner.id)
    conversation = await build.conversation(agent=agent)
    await build.message(conversation=conversation)
    execution = await build.execution(conversation=conversation)
    async with build.database.transaction() as session:
        key, _ = await api_key_crud.create(session, owner_id=owner.id, name="ci", expires_at=None)
        workspace = await organization_crud.get_personal_id(session, user_id=owner.id)
        assert workspace is not None
        base = await repository.create_base(
            session,
            organization_id=workspace,
            owner_id=owner.id,
            name="handbook",
            embedder=HashingEmbedder(),
        )
        memory, _ = await store.remember(
            session,
            HashingEmbedder(),
            owner=store.MemoryOwner(organization_id=workspace, user_id=owner.id),
            agent_id=agent.id,
            text="Prefers tea.",
            policy=store.MemoryPolicy(),
        )
        connection = await mcp_crud.create(
            session,
            organization_id=workspace,
            owner_id=owner.id,
            data=McpConnectionCreate(name="tools", url="http://127.0.0.1:9/mcp"),
            sealer=Sealer(Fernet.generate_key()),
            default_timeout=1.0,
        )
        steps = [{"id": "only", "type": "agent", "agent_id": str(agent.id), "input": "${input}"}]
        workflow = Workflow(
            organization_id=workspace, owner_id=owner.id, name="flow", version=1, steps=steps
        )
        session.add(workflow)
        await session.flush()
        run = WorkflowRun(
            organization_id=workspace,
            owner_id=owner.id,
            workflow_id=workflow.id,
            workflow_version=1,
            definition=steps,
            input="hello",
            status=WorkflowRunStatus.WAITING,
        )
        session.add(run)
        await session.flush()
        team = await organization_crud.create(session, name="Acme", owner_id=owner.id)
        invitation = await membership_crud.create_invitation(
            session,
            organization=team,
            actor_role=Role.OWNER,
            invited_by_id=owner.id,
            email="invitee@example.com",
            role=Role.MEMBER,
            token="inv_" + uuid.uuid4().hex,
            expires_at=utc_now() + timedelta(days=1),
        )
    document = await ingestion.ingest(
        build.database,
        HashingEmbedder(),
        organization_id=workspace,
        base_id=base.id,
        upload=DocumentUpload("leave.md", b"# Leave\nTwenty-five days.", "text/markdown"),
        options=ChunkingOptions(),
    )
    return {
        "base_id": base.id,
        "document_id": document.id,
        "memory_id": memory.id,
        "key_id": key.id,
        "connection_id": connection.id,
        "agent_id": agent.id,
        "conversation_id": conversation.id,
        "execution_id": execution.id,
        "user_id": owner.id,
        "actor_id": owner.id,
        "target_id": owner.id,
        "scope_id": owner.id,
        "workflow_id": workflow.id,
        "workflow_run_id": run.id,
        "organization_id": team.id,
        "invitation_id": invitation.id,
    }


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def _admin_only(operation: dict[str, Any]) -> bool:
    """Administrators see every user's rows by design; the 403 says so."""
    refused = operation.get("responses", {}).get("403", {})
    return bool(refused.get("description") == "Administrators only")


def _pages(operation: dict[str, Any]) -> bool:
    """Whether the operation answers with a JSON page (an export streams lines instead)."""
    return "application/json" in operation["responses"].get("200", {}).get("content", {})


def _id_parameters(operation: dict[str, Any], where: str) -> list[str]:
    return [
        parameter["name"]
        for parameter in operation.get("parameters", [])
        if parameter["in"] == where and parameter["name"].endswith("_id")
    ]


def _path_numbers(operation: dict[str, Any]) -> list[str]:
    """Path parameters that count within a resource, such as an agent's version number."""
    return [
        parameter["name"]
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path" and parameter["schema"].get("type") == "integer"
    ]


def _schema(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _example(document: dict[str, Any], schema: dict[str, Any], ids: dict[str, uuid.UUID]) -> Any:
    """A small valid value: the body fails on ownership, not on validation."""
    schema = _schema(document, schema)
    if "anyOf" in schema:
        schema = _schema(document, schema["anyOf"][0])
    kind = schema.get("type")
    if kind == "object":
        return {
            name: ids[name] if name in ids else _example(document, field, ids)
            for name, field in schema.get("properties", {}).items()
            if name in schema.get("required", [])
        }
    if "enum" in schema:
        return schema["enum"][0]
    return {"integer": 1, "number": 1, "boolean": False, "array": []}.get(str(kind), "hello")


def _body(document: dict[str, Any], operation: dict[str, Any], ids: dict[str, uuid.UUID]) -> Any:
    media = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if media is None:
        return None
    body = _example(document, media["schema"], ids)
    return {
        key: str(value) if isinstance(value, uuid.UUID) else value for key, value in body.items()
    }


def _comparable(value: Any) -> Any:
    """Embeddings compare as their bytes: arrays have no single truth value."""
    tobytes = getattr(value, "tobytes", None)
    return tobytes() if callable(tobytes) else value


async def _snapshot(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to prove a refused call changed nothing."""
    async with database.transaction() as session:
        return {
            table.name: sorted(
                (
                    tuple(_comparable(value) for value in row)
                    for row in (await session.execute(select(table))).all()
                ),
                key=repr,
            )
            for table in Base.metadata.sorted_tables
        }


async def test_another_users_ids_are_not_found_and_change_nothing(
    app: FastAPI,
    client: httpx.AsyncClient,
    build: Builder,
    database: Database,
    me: SignedInUser,
    stranger: SignedInUser,
) -> None:
    document = app.openapi()
    ids = await _owned_ids(build, me)
    before = await _snapshot(database)
    covered = []
    for method, path, operation in _operations(document):
        names = _id_parameters(operation, "path")
        if not names:
            continue
        unknown = [name for name in names if name not in ids]
        assert not unknown, f"{method.upper()} {path}: add how to make {unknown} to _owned_ids"
        numbers = dict.fromkeys(_path_numbers(operation), 1)
        url = path.format(**numbers, **OTHER_PATH_VALUES, **{name: ids[name] for name in names})
        admin_only = "403" in operation["responses"]
        response = await client.request(
            method,
            url,
            json=_body(document, operation, ids),
            headers={**stranger.headers, "Accept": "application/json"},
        )
        expected = 403 if admin_only else 404
        assert response.status_code == expected, (method, path, response.text)
        covered.append(f"{method.upper()} {path}")
    assert await _snapshot(database) == before
    assert len(covered) >= 8, covered


async def test_filters_by_another_users_ids_find_nothing(
    app: FastAPI,
    client: httpx.AsyncClient,
    build: Builder,
    me: SignedInUser,
    stranger: SignedInUser,
) -> None:
    document = app.openapi()
    ids = await _owned_ids(build, me)
    checked = 0
    for method, path, operation in _operations(document):
        if method != "get" or "{" in path or _admin_only(operation) or not _pages(operation):
            continue
        for name in _id_parameters(operation, "query"):
            response = await client.get(
                path, params={name: str(ids[name])}, headers=stranger.headers
            )
            assert response.status_code == 200, (path, name, response.text)
            assert response.json()["total"] == 0, (path, name)
            checked += 1
    assert checked >= 2


@pytest.mark.parametrize("kind", ["agent_id", "conversation_id", "execution_id", "base_id"])
async def test_the_owner_reaches_what_the_stranger_cannot(
    client: httpx.AsyncClient, build: Builder, me: SignedInUser, kind: str
) -> None:
    """The 404s above come from ownership: the same URL works for the owner."""
    ids = await _owned_ids(build, me)
    collection = {
        "agent_id": "agents",
        "conversation_id": "conversations",
        "base_id": "knowledge-bases",
    }.get(kind, "executions")

    response = await client.get(f"/api/v1/{collection}/{ids[kind]}", headers=me.headers)

    assert response.status_code == 200
