"""MCP connection schemas: what a user sets, and what reads back (never the header values)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, Field, StringConstraints, model_validator

from app.models import McpTransport
from app.schemas.common import PartialUpdate, ReadModel, reject_nul

# No "_" so that `mcp__<connection>__<tool>`, the name a model sees, splits one way only.
CONNECTION_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,31}$"

ConnectionName = Annotated[
    str, StringConstraints(pattern=CONNECTION_NAME_PATTERN), AfterValidator(reject_nul)
]
Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=2_000, pattern=r"^https?://\S+$"),
    AfterValidator(reject_nul),
]
Argument = Annotated[str, StringConstraints(max_length=1_000), AfterValidator(reject_nul)]
Command = Annotated[list[Argument], Field(min_length=1, max_length=64)]
HeaderName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,100}$")]
HeaderValue = Annotated[str, StringConstraints(max_length=4_000), AfterValidator(reject_nul)]
Headers = Annotated[dict[HeaderName, HeaderValue], Field(max_length=32)]
RemoteToolName = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$"), AfterValidator(reject_nul)
]
RemoteToolNames = Annotated[list[RemoteToolName], Field(max_length=256)]
Timeout = Annotated[float, Field(gt=0, le=600)]


class McpConnectionCreate(BaseModel):
    """A new connection: `url` for transport "http", `command` (argv) for "stdio"."""

    name: ConnectionName = Field(description="Lowercase letters, digits and '-'; 1-32")
    transport: McpTransport = McpTransport.HTTP
    url: Url | None = Field(default=None, description="The streamable-HTTP endpoint")
    command: Command | None = Field(default=None, description="The stdio server's argv")
    headers: Headers = Field(
        default_factory=dict, description="Sent with every request; stored encrypted"
    )
    allowed_tools: RemoteToolNames = Field(
        default_factory=list, description="Tools agents may use; empty allows all"
    )
    approval_required: RemoteToolNames = Field(
        default_factory=list, description="Tools refused until approvals exist"
    )
    timeout_seconds: Timeout | None = Field(
        default=None, description="Each call's time limit; MCP_TIMEOUT_SECONDS if left out"
    )

    @model_validator(mode="after")
    def _target_matches_transport(self) -> Self:
        """An HTTP connection needs a URL and a stdio one a command, and not the other."""
        check_target(self.transport, url=self.url, command=self.command)
        return self


def check_target(transport: McpTransport, *, url: str | None, command: list[str] | None) -> None:
    """Refuse a connection that names the wrong kind of target for its transport."""
    if transport is McpTransport.HTTP and (url is None or command):
        raise ValueError("An http connection takes a url and no command")
    if transport is McpTransport.STDIO and (command is None or url is not None):
        raise ValueError("A stdio connection takes a command and no url")


class McpConnectionUpdate(PartialUpdate):
    """A partial update; sending `headers` replaces all of them."""

    nullable = frozenset({"url", "command"})

    name: ConnectionName | None = None
    url: Url | None = None
    command: Command | None = None
    headers: Headers | None = None
    allowed_tools: RemoteToolNames | None = None
    approval_required: RemoteToolNames | None = None
    timeout_seconds: Timeout | None = None


class McpConnectionRead(ReadModel):
    """A connection as its owner sees it: header names only, never their values."""

    id: uuid.UUID
    organization_id: uuid.UUID = Field(description="The organisation it belongs to")
    name: str
    transport: McpTransport
    url: str | None
    command: list[str]
    header_names: list[str]
    allowed_tools: list[str]
    approval_required: list[str]
    timeout_seconds: float
    created_at: datetime
    updated_at: datetime


class McpToolRead(BaseModel):
    """One tool a server lists, with the name an agent enables it under."""

    name: str
    agent_tool_name: str = Field(description="Put this in an agent's `tools` to enable it")
    description: str
    input_schema: dict[str, Any]
    allowed: bool
    requires_approval: bool


class McpTestResult(BaseModel):
    """Whether the server answered, how fast, and how many tools it lists."""

    ok: bool
    tool_count: int | None
    error: str | None
    duration_ms: float
