"""GZip for responses large enough to gain from it, and only for clients that accept it.

A request without `gzip` in Accept-Encoding passes straight through, with no wrapper
around the response. Otherwise Starlette's compressor decides per response: bodies under
`minimum_size` and streams it never compresses (server-sent events, images, archives)
go out as they are.
"""

from __future__ import annotations

from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipResponder
from starlette.types import ASGIApp, Receive, Scope, Send

# zlib's own default: close to level 9's size at a fraction of its time.
COMPRESS_LEVEL = 6


def accepts_gzip(scope: Scope) -> bool:
    """Whether the client listed gzip among the encodings it accepts."""
    for name, value in scope.get("headers") or []:
        if name == b"accept-encoding":
            return b"gzip" in value
    return False


class CompressionMiddleware:
    """GZip above `minimum_size` bytes for clients that accept it; nothing for the rest."""

    def __init__(self, app: ASGIApp, *, minimum_size: int = 1024) -> None:
        self.app = app
        self.minimum_size = minimum_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Hand the response to the compressor only when the client can read gzip."""
        if scope["type"] != "http" or not accepts_gzip(scope):
            await self.app(scope, receive, send)
            return
        responder = GZipResponder(
            self.app,
            self.minimum_size,
            compresslevel=COMPRESS_LEVEL,
            exclude_content_types=DEFAULT_EXCLUDED_CONTENT_TYPES,
        )
        await responder(scope, receive, send)
