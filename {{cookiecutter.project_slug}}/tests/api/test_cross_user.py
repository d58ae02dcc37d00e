"""Another user's ids lead nowhere: every route with an id in its path answers 404.

The matrix is read from the application's OpenAPI document when the test runs, so a
route added later is covered without a line here. A route whose id this file does not
know how to make fails the test until one is added to `OWNED_IDS`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.crud import api_key as api_key_crud
from app.db.base import Base
from app.db.session import Database
from tests.support.builders import Builder
from tests.support.factories import SignedInUser

METHODS = ("get", "post", "put", "patch", "delete")


async def _owned_ids(build: Builder, owner: SignedInUser) -> dict[str, uuid.UUID]:
    """One of each resource the owner has, keyed by the path parameter that names it."""
    agent = await build.agent(owner_id=owner.id)
    conversation = await build.conversation(agent=agent)
    await build.message(conversation=conversation)
    execution = await build.execution(conversation=conversation)
    async with build.database.transaction() as session:
        key, _ = await api_key_crud.create(session, owner_id=owner.id, name="ci", expires_at=None)
    return {
        "key_id": key.id,
        "agent_id": agent.id,
        "conversation_id": conversation.id,
        "execution_id": execution.id,
        "user_id": owner.id,
    }


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def _id_parameters(operation: dict[str, Any], where: str) -> list[str]:
    return [
        parameter["name"]
        for parameter in operation.get("parameters", [])
        if parameter["in"] == where and parameter["name"].endswith("_id")
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


async def _snapshot(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to prove a refused call changed nothing."""
    async with database.transaction() as session:
        return {
            table.name: sorted(
                (tuple(row) for row in (await session.execute(select(table))).all()), key=repr
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
        url = path.format(**{name: ids[name] for name in names})
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
        if method != "get" or "{" in path:
            continue
        for name in _id_parameters(operation, "query"):
            response = await client.get(
                path, params={name: str(ids[name])}, headers=stranger.headers
            )
            assert response.status_code == 200, (path, name, response.text)
            assert response.json()["total"] == 0, (path, name)
            checked += 1
    assert checked >= 2


@pytest.mark.parametrize("kind", ["agent_id", "conversation_id", "execution_id"])
async def test_the_owner_reaches_what_the_stranger_cannot(
    client: httpx.AsyncClient, build: Builder, me: SignedInUser, kind: str
) -> None:
    """The 404s above come from ownership: the same URL works for the owner."""
    ids = await _owned_ids(build, me)
    collection = {"agent_id": "agents", "conversation_id": "conversations"}.get(kind, "executions")

    response = await client.get(f"/api/v1/{collection}/{ids[kind]}", headers=me.headers)

    assert response.status_code == 200
