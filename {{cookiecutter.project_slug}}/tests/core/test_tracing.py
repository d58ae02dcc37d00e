"""Traces: runs, model calls and tool calls as GenAI spans; OTLP export when configured."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from app.core.config import PROJECT_ROOT
from tests.support.app_process import app_process
from tests.support.factories import SignedInUser
from tests.support.runs import create_agent, execute
from tests.support.tracing import OtlpCollector, in_memory_spans, serve_collector, spans_named
from tests.support.waiting import wait_until


def _count(value: object) -> int:
    """A token count attribute, which must be an integer."""
    assert isinstance(value, int), value
    return value


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return in_memory_spans()


@pytest.fixture
def collector() -> Iterator[OtlpCollector]:
    yield from serve_collector()


async def test_a_run_is_one_agent_span_holding_its_model_and_tool_calls(
    client: httpx.AsyncClient, me: SignedInUser, spans: InMemorySpanExporter
) -> None:
    agent = await create_agent(client, me.headers, name="mathematician", tools=["calculator"])

    response = await execute(
        client, me.headers, agent["id"], '!tool calculator {"expression": "6 * 7"}'
    )

    assert response.status_code == 200, response.text
    finished = spans.get_finished_spans()
    [run] = spans_named(finished, "invoke_agent")
    chats = spans_named(finished, "chat ")
    [tool] = spans_named(finished, "execute_tool")
    assert run.name == "invoke_agent mathematician"
    assert run.attributes is not None
    assert run.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert run.attributes["gen_ai.agent.id"] == agent["id"]
    assert run.attributes["gen_ai.conversation.id"] == response.json()["conversation_id"]
    assert _count(run.attributes["gen_ai.usage.output_tokens"]) > 0
    assert len(chats) == 2  # the call that asks for the tool, then the answer
    for chat in chats:
        assert chat.attributes is not None
        assert chat.name == f"chat {agent['model']}"
        assert chat.attributes["gen_ai.provider.name"] == "scripted"
        assert chat.attributes["gen_ai.request.model"] == agent["model"]
        assert _count(chat.attributes["gen_ai.usage.input_tokens"]) > 0
    assert chats[0].attributes is not None
    assert chats[0].attributes["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert tool.name == "execute_tool calculator"
    assert tool.attributes is not None
    assert tool.attributes["gen_ai.tool.name"] == "calculator"
    assert tool.status.status_code is not StatusCode.ERROR
    for child in [*chats, tool]:
        assert child.parent is not None
        assert child.parent.span_id == run.context.span_id
        assert child.context.trace_id == run.context.trace_id


async def test_a_failed_model_call_marks_its_span_and_the_run(
    client: httpx.AsyncClient, me: SignedInUser, spans: InMemorySpanExporter
) -> None:
    agent = await create_agent(client, me.headers)

    response = await execute(client, me.headers, agent["id"], "!error rate_limited")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "failed"
    finished = spans.get_finished_spans()
    [run] = spans_named(finished, "invoke_agent")
    [chat] = spans_named(finished, "chat ")
    assert chat.attributes is not None
    assert chat.attributes["error.type"] == "rate_limited"
    assert chat.status.status_code is StatusCode.ERROR
    assert run.status.status_code is StatusCode.ERROR


async def test_a_failing_tool_call_is_an_error_span(
    client: httpx.AsyncClient, me: SignedInUser, spans: InMemorySpanExporter
) -> None:
    agent = await create_agent(client, me.headers, tools=["calculator"])

    response = await execute(
        client, me.headers, agent["id"], '!tool calculator {"expression": "1 / 0"}'
    )

    assert response.status_code == 200, response.text
    [tool] = spans_named(spans.get_finished_spans(), "execute_tool")
    assert tool.attributes is not None
    assert tool.attributes["error.type"] == "tool_error"
    assert tool.status.status_code is StatusCode.ERROR


def test_without_an_endpoint_nothing_is_instrumented_or_loaded() -> None:
    """The SDK, exporter and instrumentations stay unimported: tracing costs nothing off."""
    probe = (
        "import sys\n"
        "from app.core.config import Settings\n"
        "from app.main import create_app\n"
        "app = create_app(Settings(environment='test', otel_exporter_otlp_endpoint=None))\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('opentelemetry.') and\n"
        "    m.split('.')[1] in {'sdk', 'exporter', 'instrumentation'})\n"
        "print(loaded, [m.cls.__name__ for m in app.user_middleware])\n"
    )
    completed = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", probe],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "SECRET_KEY": "x" * 40},
    )
    loaded, middleware = completed.stdout.strip().split("] ", 1)
    assert loaded == "[", completed.stdout
    assert "OpenTelemetryMiddleware" not in middleware


@pytest.mark.slow
def test_requests_sql_and_runs_reach_an_otlp_collector(
    tmp_path: Path, collector: OtlpCollector
) -> None:
    settings = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'traced.db'}",
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
        "OTEL_SERVICE_NAME": "traced-service",
        "OTEL_BSP_SCHEDULE_DELAY": "50",
    }
    with app_process(settings, tmp_path / "uvicorn.log") as base_url:
        registered = httpx.post(
            f"{base_url}/api/v1/auth/register",
            json={"email": "traced@example.com", "password": "correct-horse-battery-9"},
            timeout=10,
        )
        assert registered.status_code == 201, registered.text
        probe = httpx.get(f"{base_url}/health", timeout=10)
        assert probe.status_code == 200

        def exported() -> bool:
            names = collector.names()
            return "POST /api/v1/auth/register" in names and any(
                name.startswith(("INSERT", "SELECT")) for name in names
            )

        wait_until(exported, timeout=30, message="no request or SQL span reached the collector")
    assert collector.service_names == {"traced-service"}
    assert not any(name.startswith("GET /health") for name in collector.names())
