"""Every model, imported here so metadata (and Alembic) sees them all."""

from app.models.agent import Agent
from app.models.agent_version import AgentVersion
from app.models.api_key import ApiKey
from app.models.audit import AuditChainHead, AuditEntry
from app.models.budget import Budget
from app.models.conversation import Conversation
from app.models.execution import Execution, ExecutionStatus
from app.models.idempotency import IdempotencyKey
from app.models.knowledge import (
    AgentKnowledgeBase,
    DocumentStatus,
    KnowledgeBase,
    KnowledgeChunk,
    KnowledgeDocument,
)
from app.models.mcp_connection import McpConnection, McpTransport
from app.models.memory import Memory
from app.models.message import Message, MessageRole
from app.models.organization import Invitation, Membership, Organization, Role
from app.models.revocation import TokenRevocation
from app.models.user import User, UserRole
from app.models.workflow import (
    StepStatus,
    Workflow,
    WorkflowEvent,
    WorkflowRun,
    WorkflowRunStatus,
    WorkflowStepRecord,
)

__all__ = [
    "Agent",
    "AgentKnowledgeBase",
    "AgentVersion",
    "ApiKey",
    "AuditChainHead",
    "AuditEntry",
    "Budget",
    "Conversation",
    "DocumentStatus",
    "Execution",
    "ExecutionStatus",
    "IdempotencyKey",
    "Invitation",
    "KnowledgeBase",
    "KnowledgeChunk",
    "KnowledgeDocument",
    "McpConnection",
    "McpTransport",
    "Membership",
    "Memory",
    "Message",
    "MessageRole",
    "Organization",
    "Role",
    "StepStatus",
    "TokenRevocation",
    "User",
    "UserRole",
    "Workflow",
    "WorkflowEvent",
    "WorkflowRun",
    "WorkflowRunStatus",
    "WorkflowStepRecord",
]
