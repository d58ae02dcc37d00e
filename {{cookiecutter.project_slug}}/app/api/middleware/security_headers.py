"""Security headers on every response, and the Content-Security-Policy each page needs.

The default policy allows nothing inline, which the API and the playground need. A page
that carries inline code (Swagger UI's start-up script) sets its own policy with
`page_policy`, naming that code by hash; this middleware then leaves it alone.
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP_HEADER = b"content-security-policy"
STRICT_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
HSTS = b"max-age=63072000; includeSubDomains"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def page_policy(html: str) -> str:
    """A policy for an HTML page whose own inline scripts, and only those, may run.

    API documentation pages draw their styles at run time and ReDoc parses in a worker,
    so those two are allowed as well.
    """
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )


_COMMON = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (CSP_HEADER, STRICT_POLICY.encode()),
)
_OVER_TLS = (*_COMMON, (b"strict-transport-security", HSTS))


class SecurityHeadersMiddleware:
    """Adds nosniff, a referrer policy, frame denial, a CSP and, over TLS, HSTS."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the headers to every HTTP response on its way out."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = _OVER_TLS if scope.get("scheme") == "https" else _COMMON

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {bytes(name).lower() for name, _ in headers}
                headers.extend(header for header in extra if header[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
