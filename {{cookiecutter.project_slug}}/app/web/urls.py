"""Links the pages hand out, which must include the prefix a proxy serves the app under."""

from __future__ import annotations

from starlette.requests import Request


def root_path(request: Request) -> str:
    """The proxy's prefix for this app (ASGI `root_path`), "" when it is served at /."""
    root: str = request.scope.get("root_path", "")
    return root.rstrip("/")
