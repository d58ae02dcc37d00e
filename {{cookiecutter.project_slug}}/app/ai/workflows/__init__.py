"""Workflows: agents joined into a graph of steps, run durably, paused for approvals.

- `templating`: `${name}` step inputs, one substitution pass, nothing evaluated.
- `graph`: the steps as a graph (edges, reachability, unbounded cycles).
- `validation`: the rules a workflow keeps before it is stored.
- `routing`: which way a branch goes.
- `records`: a run's writes: status, step records, numbered events.
- `decisions`: approval decisions, claimed once and read back by the run.
- `walk`: one run's way through its graph, each write a recorded step.
- `engine`: `WorkflowEngine`, the DBOS workflow, launching, resuming, deciding, cancelling.
"""

from app.ai.workflows.engine import WorkflowEngine
from app.ai.workflows.validation import InvalidWorkflowError, validate

__all__ = ["InvalidWorkflowError", "WorkflowEngine", "validate"]
