"""A cap on request bodies, enforced before anything parses them."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.middleware.replay import BodyTooLargeError, ClientGoneError, read_body, replaying
from app.core.errors import error_response


def _framing(scope: Scope) -> tuple[int | None, bool]:
    """The declared Content-Length (-1 when malformed) and whether the body is chunked."""
    declared: int | None = None
    chunked = False
    for name, value in scope.get("headers") or []:
        if name == b"content-length":
            text = bytes(value).decode("latin-1").strip()
            declared = int(text) if text.isdigit() else -1
        elif name == b"transfer-encoding":
            chunked = True
    return declared, chunked


class BodyLimitMiddleware:
    """Answers 413 to a body over the limit without holding more than the limit in memory.

    A declared Content-Length over the limit is refused before a byte is read; one within
    it passes straight through, since the server delivers no more than it declares. A
    chunked body is read here, once, only until it passes the limit, and replayed to the
    route. A request with neither header has no body (HTTP/1.1) and costs nothing here.
    Routes that need more (uploads) get a larger cap by path prefix.
    """

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, overrides: Mapping[str, int] | None = None
    ) -> None:
        """`overrides` maps a path prefix to its own cap; the longest matching prefix wins."""
        self.app = app
        self.max_bytes = max_bytes
        self.overrides = sorted((overrides or {}).items(), key=lambda item: -len(item[0]))

    def limit_for(self, path: str) -> int:
        """The cap that applies to a request for `path`."""
        for prefix, limit in self.overrides:
            if path.startswith(prefix):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a body over the path's cap with 413, before any route reads it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared, chunked = _framing(scope)
        if declared is None and not chunked and scope.get("http_version", "1.1") in ("1.0", "1.1"):
            await self.app(scope, receive, send)
            return
        if declared == -1:
            await _refuse(400, "Content-Length must be a whole number", scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        if declared is not None:
            if declared > limit:
                await _too_large(limit, scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        try:
            body = await read_body(receive, max_bytes=limit)
        except BodyTooLargeError:
            await _too_large(limit, scope, receive, send)
            return
        except ClientGoneError:
            return
        await self.app(scope, replaying(body, receive), send)


async def _too_large(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
    await _refuse(413, f"Request body must be at most {limit} bytes", scope, receive, send)


async def _refuse(status: int, detail: str, scope: Scope, receive: Receive, send: Send) -> None:
    # The rest of the body stays unread, so the connection cannot carry another request.
    response = error_response(scope["path"], detail, status, headers={"Connection": "close"})
    await response(scope, receive, send)
