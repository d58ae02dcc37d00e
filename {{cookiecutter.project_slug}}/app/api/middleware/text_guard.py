"""Refuse text no database can store, wherever a client puts it, with a 422 naming the field.

A NUL character or a lone surrogate in any string of a JSON body, a form, the query
string, the path or a header is answered here, once for every route, in the same shape
as FastAPI's own validation errors. Routes added later are covered without a line of
their own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.middleware.replay import ClientGoneError, read_body, replaying
from app.core.errors import error_response
from app.core.text import clean_text, unstorable_reason

Location = tuple[str | int, ...]
ERROR_TYPE = "string_unstorable"


def _content_type(scope: Scope) -> str:
    for name, value in scope.get("headers") or []:
        if name == b"content-type":
            return bytes(value).decode("latin-1").split(";")[0].strip().lower()
    return ""


def _json_strings(document: Any) -> Iterator[tuple[Location, str]]:
    """Every key and string value with its location; iterative, so nesting cannot overflow."""
    stack: list[tuple[Location, Any]] = [((), document)]
    while stack:
        location, value = stack.pop()
        if isinstance(value, str):
            yield location, value
        elif isinstance(value, dict):
            for key, item in value.items():
                yield (*location, key), key
                stack.append(((*location, key), item))
        elif isinstance(value, list):
            stack.extend(((*location, index), item) for index, item in enumerate(value))


def _pairs(encoded: str) -> list[tuple[str, str]]:
    return parse_qsl(encoded, keep_blank_values=True)


def _request_strings(scope: Scope) -> Iterator[tuple[Location, str]]:
    """The path, query parameters and headers as the routes will decode them."""
    yield ("path",), scope["path"]
    query = bytes(scope.get("query_string", b"")).decode("latin-1")
    for name, value in _pairs(query):
        yield ("query", name), name
        yield ("query", name), value
    for raw_name, raw_value in scope.get("headers") or []:
        name = bytes(raw_name).decode("latin-1")
        yield ("header", name), bytes(raw_value).decode("latin-1")


def _may_hold_unstorable(scope: Scope) -> bool:
    """A quick look at the path, query and headers; the exact check runs only when true.

    Headers are Latin-1, which has no surrogates, and a query string is decoded with
    replacement of invalid UTF-8, so NUL (raw or `%00`) is all they can carry.
    """
    query = bytes(scope.get("query_string", b""))
    return (
        unstorable_reason(scope["path"]) is not None
        or b"\x00" in query
        or b"%00" in query
        or any(b"\x00" in name or b"\x00" in value for name, value in scope.get("headers") or [])
    )


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


def _form_strings(body: bytes) -> Iterator[tuple[Location, str]]:
    for name, value in _pairs(body.decode("latin-1")):
        yield ("body", name), name
        yield ("body", name), value


def _json_errors(body: bytes) -> list[dict[str, Any]]:
    """Unstorable strings of a JSON body, or why it cannot be decoded at all.

    FastAPI answers a body that is not UTF-8, or nests past the parser's limit, with a
    bare 400, so those are a 422 here; other malformed JSON is FastAPI's own 422.
    """
    if not body:
        return []
    try:
        document = json.loads(body)
    except UnicodeDecodeError:
        return [{"type": "json_invalid", "loc": ["body"], "msg": "JSON must be encoded as UTF-8"}]
    except RecursionError:
        return [{"type": "json_invalid", "loc": ["body"], "msg": "JSON nests too deeply"}]
    except ValueError:
        return []
    return _errors(((("body", *location), value) for location, value in _json_strings(document)))


def _errors(strings: Iterator[tuple[Location, str]]) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    for location, value in strings:
        reason = unstorable_reason(value)
        if reason is not None:
            # The location may hold the bad key itself, so it is cleaned before it is echoed.
            loc = [clean_text(part) if isinstance(part, str) else part for part in location]
            errors.append({"type": ERROR_TYPE, "loc": loc, "msg": reason})
    return errors


class TextGuardMiddleware:
    """A 422 for NUL characters and lone surrogates before any route sees them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 422 for unstorable text in the query, headers or body; pass the rest on."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        errors = _errors(_request_strings(scope)) if _may_hold_unstorable(scope) else []
        content_type = _content_type(scope)
        form = content_type == "application/x-www-form-urlencoded"
        if form or _is_json(content_type):
            try:
                body = await read_body(receive)
            except ClientGoneError:
                return
            errors += _errors(_form_strings(body)) if form else _json_errors(body)
            receive = replaying(body, receive)
        if errors:
            response = error_response(scope["path"], errors, 422)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
