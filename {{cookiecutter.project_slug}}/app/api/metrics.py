"""`GET /metrics`: the Prometheus scrape endpoint, behind a bearer token when one is set."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.api.deps import SettingsDep
from app.core.errors import AuthenticationError
from app.core.metrics import exposition

router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, settings: SettingsDep) -> Response:
    """Every series in Prometheus's text format; METRICS_TOKEN, when set, is required."""
    expected = settings.metrics_token.get_secret_value() if settings.metrics_token else ""
    if expected:
        given = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not secrets.compare_digest(given.encode(), expected.encode()):
            raise AuthenticationError("A valid metrics token is required")
    body, content_type = exposition()
    return Response(body, media_type=content_type)
