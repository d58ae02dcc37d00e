"""Count and time every HTTP request by its route template, not its concrete path.

`/api/v1/agents/{agent_id}` is one series however many agents there are; a path that
matched no route is counted as `unmatched`, so scanners cannot grow the label set.
"""

from __future__ import annotations

import re
import time

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.metrics import HTTP_DURATION, HTTP_REQUESTS

UNMATCHED = "unmatched"
PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")


def route_template(scope: Scope) -> str:
    """The matched route's full path template, its router prefixes included.

    A route inside an included router knows only its own part (`/agents/{agent_id}`); the
    prefix is the rest of the requested path, which is fixed text.
    """
    route = scope.get("route")
    path: str | None = getattr(route, "path", None)
    if path is None:
        return UNMATCHED
    if "{" not in path:
        return path
    values = scope.get("path_params", {})
    rendered = PARAMETER.sub(lambda match: str(values.get(match[1], match[0])), path)
    requested: str = scope["path"]
    if requested.endswith(rendered):
        return requested[: len(requested) - len(rendered)] + path
    return path


class MetricsMiddleware:
    """Record each request's method, route, status and duration once it has been answered.

    The labelled series are looked up once per label set and kept, so a request costs a
    dictionary lookup and two updates.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._counted: dict[tuple[str, str, int], Counter] = {}
        self._timed: dict[tuple[str, str], Histogram] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, noting the status it was answered with."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self._record(scope["method"], route_template(scope), status, started)

    def _record(self, method: str, route: str, status: int, started: float) -> None:
        counted = self._counted.get((method, route, status))
        if counted is None:
            counted = HTTP_REQUESTS.labels(method, route, str(status))
            self._counted[method, route, status] = counted
        timed = self._timed.get((method, route))
        if timed is None:
            timed = self._timed[method, route] = HTTP_DURATION.labels(method, route)
        counted.inc()
        timed.observe(time.perf_counter() - started)
