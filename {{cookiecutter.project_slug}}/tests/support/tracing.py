"""Spans kept in memory, so tests read what a collector would have received."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

_exporter = InMemorySpanExporter()
_installed = threading.Lock()


def in_memory_spans() -> InMemorySpanExporter:
    """The process's span exporter, installed on first use; OpenTelemetry allows one provider."""
    with _installed:
        if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
            provider = TracerProvider()
            provider.add_span_processor(SimpleSpanProcessor(_exporter))
            trace.set_tracer_provider(provider)
    _exporter.clear()
    return _exporter


def spans_named(spans: tuple[ReadableSpan, ...], prefix: str) -> list[ReadableSpan]:
    """The finished spans whose name starts with `prefix`, oldest first."""
    return [span for span in spans if span.name.startswith(prefix)]


class OtlpCollector(ThreadingHTTPServer):
    """An OTLP/HTTP trace receiver on loopback that keeps every span name and resource."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ExportHandler)
        self.span_names: list[str] = []
        self.service_names: set[str] = set()
        self.lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        """The base URL to give as OTEL_EXPORTER_OTLP_ENDPOINT."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def received(self, export: ExportTraceServiceRequest) -> None:
        """Keep what one export carried."""
        with self.lock:
            for resource_spans in export.resource_spans:
                for attribute in resource_spans.resource.attributes:
                    if attribute.key == "service.name":
                        self.service_names.add(attribute.value.string_value)
                for scope_spans in resource_spans.scope_spans:
                    self.span_names += [span.name for span in scope_spans.spans]

    def names(self) -> list[str]:
        """The span names received so far."""
        with self.lock:
            return list(self.span_names)


class _ExportHandler(BaseHTTPRequestHandler):
    """Accept `POST /v1/traces` in protobuf, as the OTLP/HTTP exporter sends it."""

    server: OtlpCollector

    def do_POST(self) -> None:
        """Decode the export and answer with OTLP's empty success."""
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/v1/traces":
            export = ExportTraceServiceRequest()
            export.ParseFromString(body)
            self.server.received(export)
        self.send_response(200 if self.path == "/v1/traces" else 404)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


def serve_collector() -> Iterator[OtlpCollector]:
    """Run a collector in a thread for the duration of a fixture."""
    collector = OtlpCollector()
    thread = threading.Thread(target=collector.serve_forever, daemon=True)
    thread.start()
    try:
        yield collector
    finally:
        collector.shutdown()
        collector.server_close()
        thread.join(timeout=5)
