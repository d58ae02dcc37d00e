"""What runs and model calls add to the metrics{% if cookiecutter.use_opentelemetry %} and traces{% endif %}, observed where they happen."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
{%- if cookiecutter.use_opentelemetry %}

from opentelemetry.trace import Span, StatusCode
{%- endif %}

from app.ai.providers.base import Completion, ProviderError
from app.ai.runs.types import PreparedRun, RunTally
from app.core.metrics import COST, PROVIDER_CALLS, RUN_DURATION, RUNS, RUNS_IN_FLIGHT, TOKENS
{%- if cookiecutter.use_opentelemetry %}
from app.core.tracing import tracer
{%- endif %}
from app.models import ExecutionStatus
{%- if cookiecutter.use_opentelemetry %}

# GenAI semantic conventions: the provider names OpenTelemetry registers for ours.
SEMCONV_PROVIDER_NAMES = {"gemini": "gcp.gemini"}
{%- endif %}


@dataclass(slots=True)
class ObservedRun:
    """A run being observed: `finish` records how it ended."""

    prepared: PreparedRun
    started: float = field(default_factory=time.perf_counter)
    {%- if cookiecutter.use_opentelemetry %}
    span: Span | None = None
    {%- endif %}

    def finish(self, tally: RunTally, status: ExecutionStatus) -> None:
        """Count the run by how it ended, with its duration, tokens and cost."""
        agent = self.prepared.agent
        seconds = time.perf_counter() - self.started
        RUNS.labels(str(agent.id), agent.provider, agent.model, status.value).inc()
        RUN_DURATION.labels(agent.provider, agent.model, status.value).observe(seconds)
        TOKENS.labels(agent.provider, agent.model, "input").inc(tally.usage.input_tokens)
        TOKENS.labels(agent.provider, agent.model, "output").inc(tally.usage.output_tokens)
        COST.labels(agent.provider, agent.model).inc(float(tally.cost))
        {%- if cookiecutter.use_opentelemetry %}
        if self.span is not None:
            self.span.set_attributes(
                {
                    "gen_ai.usage.input_tokens": tally.usage.input_tokens,
                    "gen_ai.usage.output_tokens": tally.usage.output_tokens,
                    "app.run.status": status.value,
                }
            )
            if status is ExecutionStatus.FAILED:
                self.span.set_status(StatusCode.ERROR, "run failed")
                self.span.set_attribute("error.type", "run_failed")
        {%- endif %}


@contextmanager
def observe_run(prepared: PreparedRun) -> Iterator[ObservedRun]:
    """Count the run as in flight{% if cookiecutter.use_opentelemetry %} and trace it as one `invoke_agent` span{% endif %}."""
    observed = ObservedRun(prepared)
    {%- if cookiecutter.use_opentelemetry %}
    agent = prepared.agent
    attributes: dict[str, str | int] = {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.provider.name": _semconv_provider(agent.provider),
        "gen_ai.agent.id": str(agent.id),
        "gen_ai.agent.name": agent.name,
        "gen_ai.conversation.id": str(prepared.conversation_id),
        "gen_ai.request.model": agent.model,
        "app.execution.id": str(prepared.execution_id),
    }
    with (
        tracer.start_as_current_span(f"invoke_agent {agent.name}", attributes=attributes) as span,
        RUNS_IN_FLIGHT.track_inprogress(),
    ):
        observed.span = span
        yield observed
    {%- else %}
    with RUNS_IN_FLIGHT.track_inprogress():
        yield observed
    {%- endif %}


@dataclass(slots=True)
class ObservedCall:
    """A model call being observed: `answered` records the reply it got."""
{% if cookiecutter.use_opentelemetry %}
    span: Span
{%- endif %}
    completion: Completion | None = None

    def answered(self, completion: Completion) -> None:
        """Keep the reply, so its usage and finish reason are recorded with the call."""
        self.completion = completion
        {%- if cookiecutter.use_opentelemetry %}
        self.span.set_attributes(
            {
                "gen_ai.response.model": completion.model,
                "gen_ai.response.finish_reasons": (completion.finish_reason.value,),
                "gen_ai.usage.input_tokens": completion.usage.input_tokens,
                "gen_ai.usage.output_tokens": completion.usage.output_tokens,
            }
        )
        {%- endif %}


@contextmanager
def observe_call(provider: str, model: str) -> Iterator[ObservedCall]:
    """Time one model call{% if cookiecutter.use_opentelemetry %} in a `chat` span{% endif %}; the outcome is `ok` or the error's kind."""
    started, outcome = time.perf_counter(), "error"
    {%- if cookiecutter.use_opentelemetry %}
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": _semconv_provider(provider),
        "gen_ai.request.model": model,
    }
    with tracer.start_as_current_span(f"chat {model}", attributes=attributes) as span:
        try:
            yield ObservedCall(span)
            outcome = "ok"
        except ProviderError as exc:
            outcome = exc.kind.value
            span.set_attribute("error.type", outcome)
            raise
        finally:
            PROVIDER_CALLS.labels(provider, model, outcome).observe(time.perf_counter() - started)
    {%- else %}
    try:
        yield ObservedCall()
        outcome = "ok"
    except ProviderError as exc:
        outcome = exc.kind.value
        raise
    finally:
        PROVIDER_CALLS.labels(provider, model, outcome).observe(time.perf_counter() - started)
    {%- endif %}
{%- if cookiecutter.use_opentelemetry %}


def _semconv_provider(provider: str) -> str:
    """Our provider name as the GenAI conventions spell it."""
    return SEMCONV_PROVIDER_NAMES.get(provider, provider)
{%- endif %}
