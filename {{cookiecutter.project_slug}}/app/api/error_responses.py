"""The 4xx answers each operation can give, listed in the OpenAPI document with their bodies.

Most are read from the operation itself, so a route added later is documented without a
line of its own: a security requirement means 401, a path parameter 404, a body (or a
write) 409 and 413, and every operation can answer 422, since text no database stores is
refused wherever it appears, even in a header. Routes declare only what cannot be seen
from outside: `ADMIN_ONLY` (403), `BUDGETED` (402) and `THROTTLED` (429).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, status

from app.core.openai_errors import is_openai_path
from app.schemas.common import ErrorBody, OpenAIErrorBody, ValidationErrorBody

WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
REF = "#/components/schemas/{model}"


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


ADMIN_ONLY: dict[int | str, dict[str, Any]] = {
    status.HTTP_403_FORBIDDEN: _error("Administrators only")
}
THROTTLED: dict[int | str, dict[str, Any]] = {
    status.HTTP_429_TOO_MANY_REQUESTS: _error("Too many attempts; wait as Retry-After says")
}
BUDGETED: dict[int | str, dict[str, Any]] = {
    status.HTTP_402_PAYMENT_REQUIRED: _error(
        "A budget is spent: `budget` names it, its limit, use and reset; so does Retry-After"
    )
}


UNPROCESSABLE_BODIES = ("ValidationErrorBody", "ErrorBody")


def _documented(description: str, model: str) -> dict[str, Any]:
    schema = {"$ref": REF.format(model=model)}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def expected_errors(method: str, operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The error responses an operation gives, judged from its own description."""
    errors: dict[str, dict[str, Any]] = {}
    if operation.get("security"):
        errors["401"] = _documented("Missing, invalid or revoked token", "ErrorBody")
    if any(parameter["in"] == "path" for parameter in operation.get("parameters", [])):
        errors["404"] = _documented("Not found, or not yours", "ErrorBody")
    if "requestBody" in operation or method in WRITE_METHODS:
        errors["409"] = _documented("Conflicts with existing data", "ErrorBody")
        errors["413"] = _documented("Request body over the size cap", "ErrorBody")
    # A field the schema refuses lists each problem; a request the service cannot carry out
    # as it stands (an unknown provider or tool, a disabled agent) has one message.
    either = {"anyOf": [{"$ref": REF.format(model=name)} for name in UNPROCESSABLE_BODIES]}
    errors["422"] = {
        "description": "A field is invalid (each entry names one), or the request cannot be "
        "carried out as it stands",
        "content": {"application/json": {"schema": either}},
    }
    return errors


def _in_openai_shape(responses: dict[str, Any]) -> None:
    """Point every error response of an OpenAI-compatible operation at OpenAI's body."""
    for code, response in responses.items():
        if code.isdigit() and int(code) >= status.HTTP_400_BAD_REQUEST:
            schema = {"$ref": REF.format(model=OpenAIErrorBody.__name__)}
            response["content"] = {"application/json": {"schema": schema}}


def _add_schemas(document: dict[str, Any]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for model in (ErrorBody, ValidationErrorBody, OpenAIErrorBody):
        schema = model.model_json_schema(ref_template=REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema


def install_error_responses(app: FastAPI) -> None:
    """Make `app.openapi()` list every operation's expected errors."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = generate()
        _add_schemas(document)
        for path, item in document.get("paths", {}).items():
            for method, operation in item.items():
                responses = operation.setdefault("responses", {})
                for code, response in expected_errors(method, operation).items():
                    if code == "422" or code not in responses:
                        responses[code] = response
                if is_openai_path(path):
                    _in_openai_shape(responses)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
