"""The rules a workflow must keep before it is stored; a broken one names its step and rule."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from app.ai.workflows.graph import StepGraph
from app.ai.workflows.templating import INPUT_VARIABLE, TemplateSyntaxError, variables_of
from app.schemas.workflow import AgentStep, ApprovalStep, BranchStep, ParallelStep, Step

# Steps whose output a template or a branch can read.
PRODUCERS = (AgentStep, ParallelStep)


class InvalidWorkflowError(ValueError):
    """A rule the steps break: `step` is the offending step's id, `rule` a stable name."""

    def __init__(self, step: str, rule: str, message: str) -> None:
        super().__init__(f"Step '{step}' breaks rule '{rule}': {message}")
        self.step = step
        self.rule = rule
        self.message = message


def validate(steps: Sequence[Step], *, owned_agents: Collection[uuid.UUID]) -> None:
    """Raise `InvalidWorkflowError` for the first broken rule, checked in the order listed here.

    Ids are unique; every step named exists; agents are the owner's; parallel branches
    are plain agent steps; every step is reachable from the first; every cycle passes a
    case with `max_times`; branches test an earlier step; templates are well formed and
    name only the input and earlier steps.
    """
    _unique_ids(steps)
    graph = StepGraph(steps)
    for edge in graph.edges:
        if edge.target not in graph.steps:
            raise InvalidWorkflowError(
                edge.source, "unknown_step", f"no step is called '{edge.target}'"
            )
    for step in steps:
        if isinstance(step, AgentStep) and step.agent_id not in owned_agents:
            raise InvalidWorkflowError(
                step.id, "agent_not_found", f"you have no agent {step.agent_id}"
            )
    _parallel_branches(graph)
    if isinstance(graph.steps[graph.start], ApprovalStep):
        raise InvalidWorkflowError(
            graph.start, "approval_first", "an approval needs a step before it"
        )
    unreachable = [step.id for step in steps if step.id not in graph.reachable_from(graph.start)]
    if unreachable:
        raise InvalidWorkflowError(
            unreachable[0], "unreachable", f"no path from the first step '{graph.start}' leads here"
        )
    cycle = graph.unbounded_cycle()
    if cycle is not None:
        loop = " -> ".join([*cycle, cycle[0]])
        raise InvalidWorkflowError(
            cycle[0], "unbounded_cycle", f"the loop {loop} needs a branch case with `max_times`"
        )
    for step in steps:
        _templates_and_sources(graph, step)


def _unique_ids(steps: Sequence[Step]) -> None:
    seen: set[str] = set()
    for step in steps:
        if step.id in seen:
            raise InvalidWorkflowError(step.id, "duplicate_id", "another step has this id")
        seen.add(step.id)


def _parallel_branches(graph: StepGraph) -> None:
    """A branch of a parallel step is an agent step that nothing else leads to or from."""
    for step in graph.steps.values():
        if not isinstance(step, ParallelStep):
            continue
        for branch_id in step.branches:
            branch = graph.steps[branch_id]
            entries = [edge.source for edge in graph.edges if edge.target == branch_id]
            if not isinstance(branch, AgentStep) or branch.next is not None:
                raise InvalidWorkflowError(
                    step.id, "parallel_branch", f"'{branch_id}' must be an agent step with no next"
                )
            if entries != [step.id] or branch_id == graph.start:
                raise InvalidWorkflowError(
                    step.id, "parallel_branch", f"'{branch_id}' must be reached only from here"
                )


def _templates_and_sources(graph: StepGraph, step: Step) -> None:
    """Templates name the input or earlier producing steps; a branch reads an earlier one."""
    ancestors = graph.ancestors(step.id)
    earlier = {name for name in ancestors if isinstance(graph.steps[name], PRODUCERS)}
    for name in ancestors:
        parallel = graph.steps[name]
        if isinstance(parallel, ParallelStep) and step.id not in parallel.branches:
            earlier.update(parallel.branches)
        elif isinstance(parallel, ParallelStep):
            earlier.discard(name)  # a branch runs before its parallel step has an output
    if isinstance(step, BranchStep) and step.source not in earlier:
        raise InvalidWorkflowError(
            step.id, "branch_source", f"'{step.source}' is not an agent or parallel step before it"
        )
    if not isinstance(step, AgentStep):
        return
    try:
        names = variables_of(step.input)
    except TemplateSyntaxError as exc:
        raise InvalidWorkflowError(step.id, "template_syntax", str(exc)) from exc
    known = earlier | {INPUT_VARIABLE}
    for name in names:
        if name not in known:
            raise InvalidWorkflowError(
                step.id,
                "unknown_variable",
                "'${" + name + "}' is neither the input nor an agent step that runs before it",
            )
