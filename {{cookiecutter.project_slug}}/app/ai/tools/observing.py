"""What tool calls add to the metrics{% if cookiecutter.use_opentelemetry %} and traces{% endif %}, observed where they run."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
{%- if cookiecutter.use_opentelemetry %}

from opentelemetry.trace import StatusCode
{%- endif %}

from app.ai.providers.base import ToolCall
from app.core.metrics import TOOL_CALLS
{%- if cookiecutter.use_opentelemetry %}
from app.core.tracing import tracer
{%- endif %}


@dataclass(slots=True)
class ObservedToolCall:
    """Set `is_error` before the block ends; `seconds` is the call's time once it has."""

    is_error: bool = False
    seconds: float = 0.0


@contextmanager
def observe_tool_call(call: ToolCall, *, known: bool) -> Iterator[ObservedToolCall]:
    """Time one tool call{% if cookiecutter.use_opentelemetry %} in an `execute_tool` span{% endif %}; a made-up tool name counts as `unknown`."""
    observed = ObservedToolCall()
    started = time.perf_counter()
    {%- if cookiecutter.use_opentelemetry %}
    attributes = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": call.name,
        "gen_ai.tool.call.id": call.id,
        "gen_ai.tool.type": "function",
    }
    with tracer.start_as_current_span(f"execute_tool {call.name}", attributes=attributes) as span:
        try:
            yield observed
        finally:
            observed.seconds = time.perf_counter() - started
            _count(call, known=known, observed=observed)
            if observed.is_error:
                span.set_attribute("error.type", "tool_error")
                span.set_status(StatusCode.ERROR, "the tool call failed")
    {%- else %}
    try:
        yield observed
    finally:
        observed.seconds = time.perf_counter() - started
        _count(call, known=known, observed=observed)
    {%- endif %}


def _count(call: ToolCall, *, known: bool, observed: ObservedToolCall) -> None:
    """One observation in the tool-call histogram, by tool and outcome."""
    outcome = "error" if observed.is_error else "ok"
    TOOL_CALLS.labels(call.name if known else "unknown", outcome).observe(observed.seconds)
