"""Workflow schemas: the step graph a client writes, and the workflow it reads back."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    model_validator,
)

from app.models import StepStatus, WorkflowRunStatus
from app.schemas.common import PartialUpdate, ReadModel, reject_nul
from app.schemas.execution import Cost

StepId = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$"),
    Field(description="Lowercase letters, digits and underscores; also the template variable"),
]
Template = Annotated[str, StringConstraints(max_length=20_000), AfterValidator(reject_nul)]
Label = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(reject_nul)]
FieldPath = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+){0,9}$")]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(reject_nul),
]
Description = Annotated[str, StringConstraints(max_length=2_000), AfterValidator(reject_nul)]
WEEK_SECONDS = 7 * 24 * 3600
MAX_TIMEOUT_SECONDS = 90 * 24 * 3600


class _Step(BaseModel):
    """What every step has: an id unique in its workflow."""

    model_config = ConfigDict(extra="forbid")

    id: StepId


class AgentStep(_Step):
    """Run an agent on an input built from a template; its answer is the step's output."""

    type: Literal["agent"] = "agent"
    agent_id: uuid.UUID
    input: Template = Field(
        default="${input}",
        description="`${input}` is the run's input, `${step_id}` an earlier step's output",
    )
    next: StepId | None = Field(default=None, description="The step after this one; none ends")


class ApprovalStep(_Step):
    """Wait for a person to approve or reject the output of the step before it."""

    type: Literal["approval"]
    approvers: list[EmailStr] = Field(
        default_factory=list, max_length=20, description="Who may decide besides the owner"
    )
    timeout_seconds: float = Field(default=WEEK_SECONDS, gt=0, le=MAX_TIMEOUT_SECONDS)
    on_timeout: Literal["fail", "approve", "reject"] = "fail"
    next: StepId | None = None


class BranchCase(BaseModel):
    """One way out of a branch: an exact label, or a JSON field equal to a value."""

    model_config = ConfigDict(extra="forbid")

    label: Label | None = Field(default=None, description="The output's last line, exactly")
    field: FieldPath | None = Field(default=None, description="A dotted path into JSON output")
    equals: str | int | float | bool | None = None
    next: StepId
    max_times: int | None = Field(
        default=None, ge=1, le=100, description="Taken at most this often; bounds a loop"
    )

    @model_validator(mode="after")
    def _one_condition(self) -> Self:
        """A case tests a label or a field, never both and never neither."""
        if (self.label is None) == (self.field is None):
            raise ValueError("A case has exactly one of `label` or `field`")
        return self


class BranchStep(_Step):
    """Choose the next step from an earlier step's output; `default` when no case matches."""

    type: Literal["branch"]
    source: StepId = Field(description="The agent step whose output is tested")
    cases: list[BranchCase] = Field(min_length=1, max_length=20)
    default: StepId | None = None


class ParallelStep(_Step):
    """Run several agent steps at once; the output joins theirs, one section each."""

    type: Literal["parallel"]
    branches: list[StepId] = Field(min_length=2, max_length=10)
    next: StepId | None = None


Step = Annotated[AgentStep | ApprovalStep | BranchStep | ParallelStep, Field(discriminator="type")]
Steps = Annotated[list[Step], Field(min_length=1, max_length=50)]


class WorkflowCreate(BaseModel):
    """A new workflow: its steps run from the first one listed."""

    name: Name
    description: Description | None = None
    steps: Steps


class WorkflowUpdate(PartialUpdate):
    """A partial update; a change to the steps bumps the version."""

    nullable = frozenset({"description"})

    name: Name | None = None
    description: Description | None = None
    steps: Steps | None = None


class WorkflowRead(ReadModel):
    """A workflow as its owner sees it."""

    id: uuid.UUID
    organization_id: uuid.UUID = Field(description="The organisation it belongs to")
    name: str
    description: str | None
    version: int = Field(description="Incremented whenever the steps change")
    steps: list[Step]
    created_at: datetime
    updated_at: datetime


class WorkflowRunCreate(BaseModel):
    """What a run starts from: `${input}` in the steps' templates."""

    input: Annotated[str, StringConstraints(max_length=100_000), AfterValidator(reject_nul)]


class StepRecordRead(ReadModel):
    """One pass through one step: what went in, what came out, what it cost."""

    step_id: str
    iteration: int
    type: str
    status: StepStatus
    input: str | None
    output: str | None
    execution_id: uuid.UUID | None
    input_tokens: int
    output_tokens: int
    cost: Cost
    comment: str | None
    decided_by: uuid.UUID | None
    error_message: str | None
    started_at: datetime
    finished_at: datetime | None


class WorkflowRunRead(ReadModel):
    """A run with its outcome, totals and every step it has passed through."""

    id: uuid.UUID
    organization_id: uuid.UUID = Field(description="The organisation it belongs to")
    workflow_id: uuid.UUID
    workflow_version: int
    status: WorkflowRunStatus
    input: str
    output: str | None
    error_type: str | None
    error_message: str | None
    input_tokens: int
    output_tokens: int
    cost: Cost = Field(description="The agent runs' estimated price, as a decimal string")
    created_at: datetime
    finished_at: datetime | None
    steps: list[StepRecordRead] = Field(default_factory=list)


class ApprovalDecision(BaseModel):
    """A person's decision on a waiting approval."""

    model_config = ConfigDict(extra="forbid")

    approve: bool
    comment: (
        Annotated[str, StringConstraints(max_length=10_000), AfterValidator(reject_nul)] | None
    ) = None
    edited_output: (
        Annotated[str, StringConstraints(max_length=100_000), AfterValidator(reject_nul)] | None
    ) = Field(default=None, description="Replaces the reviewed step's output")
