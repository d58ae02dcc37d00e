"""NUL characters and lone surrogates anywhere a client puts text are a 422 naming the field.

The cases are read from the OpenAPI document at test time: every field of every request
body and every query parameter of every operation, so a route added later is covered.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.db.session import Database
from app.models import Agent, Conversation, Execution, Message, User
from tests.support.builders import Builder
from tests.support.factories import SignedInUser

BAD_JSON_TEXT = {"nul": "a\x00b", "surrogate": "a\ud800b"}


def _schema(openapi: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    name = ref.rsplit("/", 1)[-1]
    resolved: dict[str, Any] = openapi["components"]["schemas"][name]
    return resolved


def _operations(openapi: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield method, path, operation


BOUNDARY = "text-guard-boundary"


def _body_fields(openapi: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(method, path, media type, field) for every field of every request body."""
    cases = []
    for method, path, operation in _operations(openapi):
        content = operation.get("requestBody", {}).get("content", {})
        for media_type, media in content.items():
            schema = _schema(openapi, media["schema"])
            cases += [
                (method, path, media_type, field)
                for field, definition in schema.get("properties", {}).items()
                if not _is_upload(definition)
            ]
    return cases


def _is_upload(definition: dict[str, Any]) -> bool:
    """A file field: an upload may hold any bytes (a PDF holds NULs), so it is not text."""
    variants = definition.get("anyOf", [definition])
    return any(v.get("format") == "binary" or "contentMediaType" in v for v in variants)


def _query_parameters(openapi: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (method, path, parameter["name"])
        for method, path, operation in _operations(openapi)
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query"
    ]


def _concrete(path: str, agent_id: uuid.UUID, base_id: str | None = None) -> str:
    """A real path for a template: ids of the caller's own agent, names of a real tool."""
    return (
        path.replace("{name}", "calculator")
        .replace("{agent_id}", str(agent_id))
        .replace("{execution_id}", str(uuid.uuid4()))
        .replace("{conversation_id}", str(uuid.uuid4()))
        .replace("{user_id}", str(uuid.uuid4()))
        .replace("{base_id}", base_id or str(uuid.uuid4()))
    )


async def _row_counts(database: Database) -> dict[str, int]:
    async with database.transaction() as session:
        return {
            model.__name__: await session.scalar(select(func.count()).select_from(model)) or 0
            for model in (User, Agent, Conversation, Message, Execution)
        }


@pytest.fixture
def openapi(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def _refused_fields(body: dict[str, Any]) -> list[str]:
    """The body fields a 422 names: each problem's, or OpenAI's one `param` under /v1."""
    if "error" in body:
        return [body["error"]["param"]]
    return [".".join(map(str, error["loc"][1:])) for error in body["detail"]]


async def test_every_body_field_refuses_unstorable_text(
    client: httpx.AsyncClient,
    openapi: dict[str, Any],
    me: SignedInUser,
    build: Builder,
    database: Database,
) -> None:
    agent = await build.agent(owner_id=me.id)
    # A base of the caller's, so an upload reaches the check of its fields.
    base = await client.post("/api/v1/knowledge-bases", json={"name": "guard"}, headers=me.headers)
    base_id = str(base.json()["id"])
    cases = _body_fields(openapi)
    assert len(cases) >= 20, "the OpenAPI document lost its request bodies"
    before = await _row_counts(database)
    for method, path, media_type, field in cases:
        url = _concrete(path, agent.id, base_id)
        for kind, text in BAD_JSON_TEXT.items():
            content_type = media_type
            if media_type == "application/json":
                content = json.dumps({field: text}).encode()  # escapes keep the surrogate
            elif kind != "nul":
                continue  # a form cannot carry a surrogate: bad UTF-8 decodes to U+FFFD
            elif media_type == "multipart/form-data":
                content = (
                    f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"\r\n\r\n'
                    f"{text}\r\n--{BOUNDARY}--\r\n"
                ).encode()
                content_type = f"multipart/form-data; boundary={BOUNDARY}"
            else:
                content = f"{quote(field)}={quote(text)}".encode()
            response = await client.request(
                method, url, content=content, headers={**me.headers, "Content-Type": content_type}
            )
            assert response.status_code == 422, (method, path, field, kind, response.text)
            assert field in _refused_fields(response.json()), (method, path, field, kind)
    assert await _row_counts(database) == before


async def test_every_query_parameter_refuses_a_nul(
    client: httpx.AsyncClient, openapi: dict[str, Any], me: SignedInUser, build: Builder
) -> None:
    agent = await build.agent(owner_id=me.id)
    cases = _query_parameters(openapi)
    assert any(name == "q" for _, _, name in cases)
    for method, path, name in cases:
        response = await client.request(
            method, _concrete(path, agent.id), params={name: "a\x00b"}, headers=me.headers
        )
        assert response.status_code == 422, (method, path, name, response.text)
        assert response.json()["detail"][0]["loc"] == ["query", name]


async def test_the_admin_user_filter_refuses_a_nul(client: httpx.AsyncClient, users: Any) -> None:
    admin = await users.signed_in(admin=True)

    response = await client.get("/api/v1/users", params={"q": "\x00"}, headers=admin.headers)

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "type": "string_unstorable",
            "loc": ["query", "q"],
            "msg": "Text must not contain NUL characters",
        }
    ]


async def test_nested_fields_and_keys_are_named_by_their_full_location(
    client: httpx.AsyncClient, me: SignedInUser, build: Builder
) -> None:
    agent = await build.agent(owner_id=me.id)
    body = {
        "agent_id": str(agent.id),
        "metadata": {"bad\x00key": 1, "notes": [{"text": "hi\ud800"}]},
    }

    response = await client.post(
        "/api/v1/conversations",
        content=json.dumps(body).encode(),
        headers={**me.headers, "Content-Type": "application/json"},
    )

    assert response.status_code == 422
    locations = sorted(str(error["loc"]) for error in response.json()["detail"])
    assert locations == sorted(
        [
            str(["body", "metadata", "notes", 0, "text"]),
            str(["body", "metadata", "badkey"]),
        ]
    )


async def test_openai_clients_get_the_first_location_as_param(
    client: httpx.AsyncClient, me: SignedInUser, build: Builder
) -> None:
    agent = await build.agent(owner_id=me.id)
    body = {
        "model": agent.name,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi\ud800"}]}],
    }

    response = await client.post(
        "/v1/chat/completions",
        content=json.dumps(body).encode(),
        headers={**me.headers, "Content-Type": "application/json"},
    )

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["param"] == "messages.0.content.0.text"
    assert error["type"] == "invalid_request_error"


async def test_a_nul_in_a_path_or_header_is_refused(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    path = await client.get("/api/v1/tools/calc%00ulator", headers=me.headers)
    header = await client.get("/api/v1/users/me", headers={**me.headers, "X-Note": "a\x00b"})

    assert path.status_code == 422
    assert path.json()["detail"][0]["loc"] == ["path"]
    assert header.status_code == 422
    assert header.json()["detail"][0]["loc"] == ["header", "x-note"]


async def test_clean_requests_pass_untouched(client: httpx.AsyncClient, me: SignedInUser) -> None:
    response = await client.patch(
        "/api/v1/users/me", json={"full_name": "Zoë 😀"}, headers=me.headers
    )

    assert response.status_code == 200
    assert response.json()["full_name"] == "Zoë 😀"


@pytest.mark.parametrize(
    ("body", "message"),
    [(b'{"email": "\xff\xfe"}', "JSON must be encoded as UTF-8"), (b"[" * 100_000, "nests")],
)
async def test_json_the_parser_cannot_decode_is_a_422_not_a_400(
    client: httpx.AsyncClient, body: bytes, message: str
) -> None:
    response = await client.post(
        "/api/v1/auth/register", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body"]
    assert message in error["msg"]
