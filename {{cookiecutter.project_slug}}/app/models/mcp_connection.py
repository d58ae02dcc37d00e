"""MCP connections: an organisation's MCP server, reached over streamable HTTP or stdio."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, TimestampMixin
from app.db.types import str_enum


class McpTransport(StrEnum):
    """How the service reaches the server: an HTTP endpoint, or a process it starts."""

    HTTP = "http"
    STDIO = "stdio"


class McpConnection(IdMixin, TimestampMixin, Base):
    """One organisation's MCP server, whose tools its agents enable as `mcp:<name>:<tool>`."""

    __tablename__ = "mcp_connections"
    __table_args__ = (
        UniqueConstraint("organization_id", "name", name="uq_mcp_connections_organization_id_name"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    # Who created it: per-user limits and the audit log read it; access goes by organisation.
    owner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(32))
    transport: Mapped[McpTransport] = mapped_column(str_enum(McpTransport))
    url: Mapped[str | None] = mapped_column(Text)
    # The argv of a stdio server.
    command: Mapped[list[Any]] = mapped_column(default=list)
    # HTTP headers (a bearer token, say) as Fernet-encrypted JSON; never stored in clear.
    headers_encrypted: Mapped[str | None] = mapped_column(Text)
    header_names: Mapped[list[Any]] = mapped_column(default=list)
    # Tool names agents may use; empty allows every tool the server lists.
    allowed_tools: Mapped[list[Any]] = mapped_column(default=list)
    approval_required: Mapped[list[Any]] = mapped_column(default=list)
    timeout_seconds: Mapped[float] = mapped_column(Float)
