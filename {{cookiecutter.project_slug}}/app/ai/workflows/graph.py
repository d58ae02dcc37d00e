"""A workflow's steps as a graph: who follows whom, which edges a loop bound guards."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from app.schemas.workflow import AgentStep, ApprovalStep, BranchStep, ParallelStep, Step


@dataclass(frozen=True, slots=True)
class Edge:
    """One way from a step to another; `bounded` when a case's `max_times` limits it."""

    source: str
    target: str
    bounded: bool = False


def edges_of(step: Step) -> Iterator[Edge]:
    """Every step this one can lead to, parallel branches included."""
    if isinstance(step, AgentStep | ApprovalStep) and step.next is not None:
        yield Edge(step.id, step.next)
    elif isinstance(step, BranchStep):
        for case in step.cases:
            yield Edge(step.id, case.next, bounded=case.max_times is not None)
        if step.default is not None:
            yield Edge(step.id, step.default)
    elif isinstance(step, ParallelStep):
        for branch in step.branches:
            yield Edge(step.id, branch)
        if step.next is not None:
            yield Edge(step.id, step.next)


class StepGraph:
    """The steps by id, with the queries validation and the engine need."""

    def __init__(self, steps: Sequence[Step]) -> None:
        self.steps = {step.id: step for step in steps}
        self.start = steps[0].id
        self.edges = [edge for step in steps for edge in edges_of(step)]

    def successors(self, step_id: str, *, bounded: bool = True) -> list[str]:
        """The steps `step_id` leads to; without the loop-bounded edges when `bounded` is off."""
        return [
            edge.target
            for edge in self.edges
            if edge.source == step_id and (bounded or not edge.bounded)
        ]

    def reachable_from(self, start: str) -> set[str]:
        """Every step some path from `start` reaches, `start` included."""
        seen = {start}
        frontier = [start]
        while frontier:
            for target in self.successors(frontier.pop()):
                if target in self.steps and target not in seen:
                    seen.add(target)
                    frontier.append(target)
        return seen

    def ancestors(self, step_id: str) -> set[str]:
        """The steps some path leads from to `step_id` (itself only inside a loop)."""
        return {other for other in self.steps if step_id in self._reached_after(other)}

    def _reached_after(self, start: str) -> set[str]:
        """The steps reachable from `start` in one step or more."""
        seen: set[str] = set()
        frontier = [start]
        while frontier:
            for target in self.successors(frontier.pop()):
                if target in self.steps and target not in seen:
                    seen.add(target)
                    frontier.append(target)
        return seen

    def unbounded_cycle(self) -> list[str] | None:
        """A cycle that no `max_times` case interrupts, as the steps along it, or None."""
        state: dict[str, int] = {}
        path: list[str] = []

        def visit(node: str) -> list[str] | None:
            state[node] = 1
            path.append(node)
            for target in self.successors(node, bounded=False):
                if target not in self.steps:
                    continue
                if state.get(target) == 1:
                    return path[path.index(target) :]
                if target not in state and (found := visit(target)) is not None:
                    return found
            path.pop()
            state[node] = 2
            return None

        for node in self.steps:
            if node not in state and (found := visit(node)) is not None:
                return found
        return None
