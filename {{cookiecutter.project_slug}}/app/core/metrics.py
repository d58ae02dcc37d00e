"""Prometheus metrics: what the service did, counted where it happens, scraped at /metrics.

Every series lives in the default registry of `prometheus-client`. With several uvicorn
workers, set PROMETHEUS_MULTIPROC_DIR to an empty folder shared by them: each worker then
writes its samples there and a scrape of any worker sums them all.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

# Latency buckets in seconds, from a cached answer to a slow model call.
FAST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SLOW_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)

HTTP_REQUESTS = Counter(
    "http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request (streams: until the last byte)",
    ["method", "route"],
    buckets=FAST_BUCKETS,
)
RUNS = Counter(
    "agent_runs_total", "Agent runs by how they ended", ["agent", "provider", "model", "outcome"]
)
RUN_DURATION = Histogram(
    "agent_run_duration_seconds",
    "Time from a run's start to its outcome",
    ["provider", "model", "outcome"],
    buckets=SLOW_BUCKETS,
)
RUNS_IN_FLIGHT = Gauge("agent_runs_in_flight", "Runs executing now", multiprocess_mode="livesum")
PROVIDER_CALLS = Histogram(
    "provider_call_duration_seconds",
    "Time of one model call, streamed or not",
    ["provider", "model", "outcome"],
    buckets=SLOW_BUCKETS,
)
TOKENS = Counter("provider_tokens_total", "Tokens spent", ["provider", "model", "direction"])
COST = Counter("provider_cost_usd_total", "Estimated spend in US dollars", ["provider", "model"])
TOOL_CALLS = Histogram(
    "tool_call_duration_seconds",
    "Time of one tool call",
    ["tool", "outcome"],
    buckets=FAST_BUCKETS,
)


def exposition() -> tuple[bytes, str]:
    """The current samples in Prometheus's text format, and its content type."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
