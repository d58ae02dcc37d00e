"""Agent runs: from a user's message to a stored, streamed, final answer.

One module per job, each importing only the ones above it in this list:

- `types`: the values a run carries (`AgentSpec`, `PreparedRun`, `RunTally`).
- `history`: stored messages turned into model input that fits a token budget.
- `events`: the SSE event names and the payloads a run emits.
- `cancellation`: cancel flags and liveness leases in the key-value store, shared by
  every process.
- `persistence`: a run's reads and writes (messages, its Execution row, its history).
- `outcomes`: how a run ends in storage: its first outcome with its reply, orphans failed.
- `durable`: the run engine (DBOS): the workflow, recorded steps, the queue, resuming.
- `orphans`: runs a dead process left, told from live ones and swept up to resume.
- `summaries`: older turns summarised once, stored on the conversation, reused.
- `loop`: the agent loop itself (model call, tool step, iteration bound), each a step.
- `executor`: one run from its first step to its stored outcome, however it ends.
- `lifecycle`: `RunManager`, which prepares, launches, cancels, follows and resumes runs;
  the API uses it alone.
"""

from app.ai.runs.events import EventSink, RunEvent
from app.ai.runs.lifecycle import RunManager
from app.ai.runs.loop import AgentLoop, MaxIterationsError
from app.ai.runs.types import AgentSpec, PreparedRun, RunTally

__all__ = [
    "AgentLoop",
    "AgentSpec",
    "EventSink",
    "MaxIterationsError",
    "PreparedRun",
    "RunEvent",
    "RunManager",
    "RunTally",
]
