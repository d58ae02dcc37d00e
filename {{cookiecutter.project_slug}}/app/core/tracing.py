"""OpenTelemetry traces: exported over OTLP when an endpoint is set, a no-op otherwise.

Spans come from two places: the instrumentations (each HTTP request, SQL statement and
outgoing httpx call) and the service's own spans for agent runs, model calls and tool
calls, named and labelled after OpenTelemetry's GenAI semantic conventions. Without
OTEL_EXPORTER_OTLP_ENDPOINT nothing is instrumented and the API's spans cost next to
nothing; the SDK and the exporter are not even imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opentelemetry import trace

from app import __version__
from app.core.config import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy.ext.asyncio import AsyncEngine

# The OTLP/HTTP path traces are posted to, under OTEL_EXPORTER_OTLP_ENDPOINT.
TRACES_PATH = "/v1/traces"
# Probes and scrapes would drown the requests worth reading.
UNTRACED_URLS = "/health,/metrics"

# The service's own spans: runs, model calls and tool calls.
tracer = trace.get_tracer("app")


def tracing_enabled(settings: Settings) -> bool:
    """Traces leave the process only when there is somewhere to send them."""
    return bool(settings.otel_exporter_otlp_endpoint)


def configure_tracing(settings: Settings) -> None:
    """Install the process's tracer provider with an OTLP exporter, once per process.

    A provider already installed (by `opentelemetry-instrument`, or an earlier app in the
    same process) is kept: OpenTelemetry allows one per process.
    """
    if not tracing_enabled(settings) or _has_sdk_provider():
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    endpoint = str(settings.otel_exporter_otlp_endpoint).rstrip("/") + TRACES_PATH
    resource = Resource.create(
        {"service.name": settings.otel_service_name, "service.version": __version__}
    )
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(provider)


def instrument_app(app: FastAPI, settings: Settings) -> None:
    """Trace every request but the probes, and every outgoing httpx call."""
    if not tracing_enabled(settings):
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    # One span per request; the ASGI message spans under it would only repeat it.
    FastAPIInstrumentor.instrument_app(
        app, excluded_urls=UNTRACED_URLS, exclude_spans=["receive", "send"]
    )
    if not HTTPXClientInstrumentor().is_instrumented_by_opentelemetry:
        HTTPXClientInstrumentor().instrument()


def instrument_engine(engine: AsyncEngine, settings: Settings) -> None:
    """A span per SQL statement, under the request or run that issued it."""
    if not tracing_enabled(settings):
        return
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    # The instrumentation's declared range stops below SQLAlchemy 2.1, whose cursor events
    # it hooks are unchanged; the tests check that statements are traced.
    SQLAlchemyInstrumentor().instrument(engine=engine.sync_engine, skip_dep_check=True)


def flush_traces() -> None:
    """Send the spans still queued before the process exits."""
    provider = trace.get_tracer_provider()
    force_flush = getattr(provider, "force_flush", None)
    if callable(force_flush):
        force_flush()


def _has_sdk_provider() -> bool:
    """Whether a real provider is installed, not the API's placeholder."""
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
