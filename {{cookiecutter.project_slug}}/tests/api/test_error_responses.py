"""The OpenAPI document lists the errors each route gives, with their body shapes."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI


@pytest.fixture
def operations(app: FastAPI) -> dict[tuple[str, str], dict[str, Any]]:
    document = app.openapi()
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


def _schema_ref(operation: dict[str, Any], code: str) -> str:
    ref: str = operation["responses"][code]["content"]["application/json"]["schema"]["$ref"]
    return ref.rsplit("/", 1)[-1]


def test_every_operation_documents_its_422_shapes(
    operations: dict[tuple[str, str], dict[str, Any]],
) -> None:
    for key, operation in operations.items():
        schema = operation["responses"]["422"]["content"]["application/json"]["schema"]
        if key[1].startswith("/v1/"):
            # OpenAI clients read OpenAI's error body, validation errors included.
            assert schema["$ref"].endswith("/OpenAIErrorBody"), key
        else:
            refs = [option["$ref"].rsplit("/", 1)[-1] for option in schema["anyOf"]]
            assert refs == ["ValidationErrorBody", "ErrorBody"], key


def test_signed_in_routes_document_401(operations: dict[tuple[str, str], dict[str, Any]]) -> None:
    for key in [("GET", "/api/v1/users/me"), ("POST", "/api/v1/agents/{agent_id}/execute")]:
        assert _schema_ref(operations[key], "401") == "ErrorBody", key
    assert "401" not in operations[("POST", "/api/v1/auth/register")]["responses"]


def test_admin_id_throttle_and_body_errors_are_listed(
    operations: dict[tuple[str, str], dict[str, Any]],
) -> None:
    admin_update = operations[("PATCH", "/api/v1/users/{user_id}")]["responses"]
    register = operations[("POST", "/api/v1/auth/register")]["responses"]
    login = operations[("POST", "/api/v1/auth/login")]["responses"]
    listing = operations[("GET", "/api/v1/agents")]["responses"]

    assert {"401", "403", "404", "409", "413", "422"} <= set(admin_update)
    assert {"409", "413", "422", "429"} <= set(register)
    assert {"401", "429"} <= set(login)
    assert "404" not in listing
    assert "413" not in listing
