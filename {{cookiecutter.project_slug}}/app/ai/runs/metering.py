"""What runs, model calls and their spend add to the Prometheus metrics."""

from __future__ import annotations

from app.ai.runs.types import PreparedRun, RunTally
from app.core.metrics import COST, PROVIDER_CALLS, RUN_DURATION, RUNS, TOKENS
from app.models import ExecutionStatus


def record_run(
    prepared: PreparedRun, tally: RunTally, status: ExecutionStatus, seconds: float
) -> None:
    """Count a finished run by how it ended, with its duration, tokens and cost."""
    agent = prepared.agent
    outcome = status.value
    RUNS.labels(str(agent.id), agent.provider, agent.model, outcome).inc()
    RUN_DURATION.labels(agent.provider, agent.model, outcome).observe(seconds)
    TOKENS.labels(agent.provider, agent.model, "input").inc(tally.usage.input_tokens)
    TOKENS.labels(agent.provider, agent.model, "output").inc(tally.usage.output_tokens)
    COST.labels(agent.provider, agent.model).inc(float(tally.cost))


def record_call(provider: str, model: str, outcome: str, seconds: float) -> None:
    """Time one model call; `outcome` is `ok` or the provider error's kind."""
    PROVIDER_CALLS.labels(provider, model, outcome).observe(seconds)
