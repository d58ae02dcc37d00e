"""Schemathesis calls every operation with generated input, signed in, on a real server.

Whatever it sends, the service must never answer 5xx, and every answer must match the
OpenAPI document: a documented status code, content type, headers and body shape.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.core.config import Settings
from app.main import create_app
from tests.support.factories import DEFAULT_PASSWORD
from tests.support.live_server import running_server

if TYPE_CHECKING:
    from schemathesis.specs.openapi.schemas import OpenApiCase

pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# Enough to reach every branch of the validators; the whole run stays under two minutes.
EXAMPLES_PER_OPERATION = 6


@dataclass(frozen=True)
class LiveService:
    url: str
    http: httpx.Client

    def sign_in(self) -> dict[str, str]:
        """A new user's bearer header, so a case that logs out spends only its own token."""
        email = f"fuzz-{time.monotonic_ns()}@example.com"
        self.http.post("/api/v1/auth/register", json={"email": email, "password": DEFAULT_PASSWORD})
        token = self.http.post(
            "/api/v1/auth/login", data={"username": email, "password": DEFAULT_PASSWORD}
        ).json()["access_token"]
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def live(settings: Settings) -> Iterator[LiveService]:
    """The service under uvicorn, with generous per-user limits so fuzzing is not throttled."""
    served = settings.model_copy(
        update={"user_run_rate_limit": "10000/minute", "user_tool_rate_limit": "10000/minute"}
    )
    with running_server(served) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield LiveService(url=url, http=http)


@pytest.fixture(scope="module")
def headers(live: LiveService) -> dict[str, str]:
    return live.sign_in()


# Built at collection: the document depends only on the routes, not on the database.
schema = schemathesis.openapi.from_dict(
    create_app(Settings(_env_file=None, environment="test")).openapi()
)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_answers_as_documented(
    case: OpenApiCase, live: LiveService, headers: dict[str, str]
) -> None:
    if case.operation.path.endswith("/auth/logout"):
        headers = live.sign_in()
    case.call_and_validate(base_url=live.url, headers=headers, checks=CHECKS)
