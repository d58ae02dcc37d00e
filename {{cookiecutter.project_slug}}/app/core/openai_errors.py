"""OpenAI's error body, for the `/v1` routes that OpenAI clients and SDKs call.

The SDKs read `error.message`, `type`, `param` and `code` to show a useful message; a bare
`{"detail": ...}` would leave users with "Error code: 404" and nothing else.
"""

from __future__ import annotations

from typing import Any

from fastapi import status

# Where the OpenAI-compatible routes live; their errors take OpenAI's shape.
OPENAI_PATH_PREFIX = "/v1"

_TYPES = {
    status.HTTP_401_UNAUTHORIZED: "authentication_error",
    status.HTTP_403_FORBIDDEN: "permission_error",
    status.HTTP_404_NOT_FOUND: "not_found_error",
    status.HTTP_409_CONFLICT: "conflict_error",
    status.HTTP_429_TOO_MANY_REQUESTS: "rate_limit_error",
}


def is_openai_path(path: str) -> bool:
    """Whether a request path belongs to the OpenAI-compatible surface."""
    return path == OPENAI_PATH_PREFIX or path.startswith(f"{OPENAI_PATH_PREFIX}/")


def error_type(status_code: int) -> str:
    """OpenAI's `type` for a status: the SDKs map statuses the same way."""
    if status_code >= status.HTTP_500_INTERNAL_SERVER_ERROR:
        return "server_error"
    return _TYPES.get(status_code, "invalid_request_error")


def openai_error(
    message: str, status_code: int, *, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """`{"error": {"message", "type", "param", "code"}}` as OpenAI's API answers."""
    return {
        "error": {
            "message": message,
            "type": error_type(status_code),
            "param": param,
            "code": code,
        }
    }
