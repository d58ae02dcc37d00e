"""The shipped example workflows: a software-delivery pipeline and a support triage.

Each names its agents by a key; `steps(ids)` builds its steps once those agents exist,
so `make seed` and the tests create the same workflows.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ExampleAgent:
    """An agent a workflow example needs."""

    key: str
    name: str
    system_prompt: str


@dataclass(frozen=True)
class ExampleWorkflow:
    """A workflow with the agents it runs and how to build its steps from their ids."""

    name: str
    description: str
    agents: tuple[ExampleAgent, ...]
    build: Callable[[Mapping[str, uuid.UUID]], list[dict[str, Any]]]

    def steps(self, agent_ids: Mapping[str, uuid.UUID]) -> list[dict[str, Any]]:
        """The steps, with each agent key replaced by that agent's id."""
        return self.build(agent_ids)


def _pipeline(ids: Mapping[str, uuid.UUID]) -> list[dict[str, Any]]:
    """Analyst, approval, architect, developer, tester, then back to the developer on FAIL."""
    return [
        {
            "id": "analyst",
            "type": "agent",
            "agent_id": str(ids["analyst"]),
            "input": "Write user stories for this request:\n${input}",
            "next": "review_stories",
        },
        {"id": "review_stories", "type": "approval", "next": "architect"},
        {
            "id": "architect",
            "type": "agent",
            "agent_id": str(ids["architect"]),
            "input": "Design a solution for these user stories:\n${analyst}",
            "next": "developer",
        },
        {
            "id": "developer",
            "type": "agent",
            "agent_id": str(ids["developer"]),
            "input": "Failing tests from the last round, if any:\n${tester}\n\n"
            "Implement this design:\n${architect}",
            "next": "tester",
        },
        {
            "id": "tester",
            "type": "agent",
            "agent_id": str(ids["tester"]),
            "input": "Test this implementation; end with PASS or FAIL on a line of its own.\n"
            "${developer}",
            "next": "check_tests",
        },
        {
            "id": "check_tests",
            "type": "branch",
            "source": "tester",
            "cases": [{"label": "FAIL", "next": "developer", "max_times": 2}],
            "default": "review_release",
        },
        {"id": "review_release", "type": "approval"},
    ]


def _triage(ids: Mapping[str, uuid.UUID]) -> list[dict[str, Any]]:
    """Classify a request, then let the matching specialist answer it."""

    def answer(key: str, topic: str) -> dict[str, Any]:
        return {
            "id": key,
            "type": "agent",
            "agent_id": str(ids[key]),
            "input": "Answer this " + topic + " request:\n${input}",
        }

    return [
        {
            "id": "classify",
            "type": "agent",
            "agent_id": str(ids["classify"]),
            "input": "Classify this request; end with BILLING, TECHNICAL or OTHER on a line "
            "of its own.\n${input}",
            "next": "route",
        },
        {
            "id": "route",
            "type": "branch",
            "source": "classify",
            "cases": [
                {"label": "BILLING", "next": "billing"},
                {"label": "TECHNICAL", "next": "technical"},
            ],
            "default": "general",
        },
        answer("billing", "billing"),
        answer("technical", "technical support"),
        answer("general", "general"),
    ]


SOFTWARE_DELIVERY = ExampleWorkflow(
    name="Software delivery",
    description="Analyst, architect, developer and tester, with approvals after the "
    "analyst and before release; failed tests go back to the developer at most twice.",
    agents=(
        ExampleAgent("analyst", "Analyst", "Turn a request into short, testable user stories."),
        ExampleAgent("architect", "Architect", "Design a simple solution for user stories."),
        ExampleAgent("developer", "Developer", "Write the code a design asks for."),
        ExampleAgent(
            "tester", "Tester", "Test the code; end with PASS or FAIL on a line of its own."
        ),
    ),
    build=_pipeline,
)

TRIAGE = ExampleWorkflow(
    name="Support triage",
    description="Classify a request, then the billing, technical or general agent answers.",
    agents=(
        ExampleAgent(
            "classify",
            "Triage classifier",
            "Classify requests; end with BILLING, TECHNICAL or OTHER on a line of its own.",
        ),
        ExampleAgent("billing", "Billing specialist", "Answer billing questions precisely."),
        ExampleAgent("technical", "Technical specialist", "Solve technical problems step by step."),
        ExampleAgent("general", "Generalist", "Answer any other request briefly."),
    ),
    build=_triage,
)

EXAMPLES = (SOFTWARE_DELIVERY, TRIAGE)
