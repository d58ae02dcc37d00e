"""Routes read from the OpenAPI document, and small valid bodies for them, for route matrices."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import select

from app.db.base import Base
from app.db.session import Database

METHODS = ("get", "post", "put", "patch", "delete")


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) for every operation of the document."""
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def path_parameters(operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The operation's path parameters by name, with their schemas."""
    return {
        parameter["name"]: parameter.get("schema", {})
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path"
    }


def declared(operation: dict[str, Any]) -> list[str]:
    """The permissions an operation declares: its scopes in the security requirement."""
    return [
        scope
        for requirement in operation.get("security", [])
        for scopes in requirement.values()
        for scope in scopes
    ]


def admin_only(operation: dict[str, Any]) -> bool:
    """Whether the operation is for the deployment's administrators, as its 403 says."""
    refused = operation.get("responses", {}).get("403", {})
    return bool(refused.get("description") == "Administrators only")


def _schema(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _example(document: dict[str, Any], schema: dict[str, Any], ids: Mapping[str, Any]) -> Any:
    """A small valid value: the request fails on whose the ids are, not on validation."""
    schema = _schema(document, schema)
    if "anyOf" in schema:
        schema = _schema(document, schema["anyOf"][0])
    kind = schema.get("type")
    if kind == "object":
        return {
            name: str(ids[name]) if name in ids else _example(document, field, ids)
            for name, field in schema.get("properties", {}).items()
            if name in schema.get("required", [])
        }
    if "enum" in schema:
        return schema["enum"][0]
    return {"integer": 1, "number": 1, "boolean": False, "array": []}.get(str(kind), "hello")


def json_body(document: dict[str, Any], operation: dict[str, Any], ids: Mapping[str, Any]) -> Any:
    """A valid JSON body for the operation (ids filled from `ids`), or None if it takes none."""
    media = operation.get("requestBody", {}).get("content", {}).get("application/json")
    return None if media is None else _example(document, media["schema"], ids)


def _comparable(value: Any) -> Any:
    """Embeddings compare as their bytes: arrays have no single truth value."""
    tobytes = getattr(value, "tobytes", None)
    return tobytes() if callable(tobytes) else value


async def snapshot(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to prove that refused calls changed nothing."""
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


def fill(path: str, values: Mapping[str, Any]) -> str:
    """The path with each `{name}` replaced by its value."""
    return path.format(**{name: str(value) for name, value in values.items()})


__all__ = [
    "METHODS",
    "admin_only",
    "declared",
    "fill",
    "json_body",
    "operations",
    "path_parameters",
    "snapshot",
]
