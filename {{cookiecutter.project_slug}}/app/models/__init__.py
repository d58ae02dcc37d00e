"""Every model, imported here so metadata (and Alembic) sees them all."""

from app.models.agent import Agent
from app.models.api_key import ApiKey
from app.models.conversation import Conversation
from app.models.execution import Execution, ExecutionStatus
from app.models.idempotency import IdempotencyKey
from app.models.knowledge import DocumentStatus, KnowledgeBase, KnowledgeChunk, KnowledgeDocument
from app.models.message import Message, MessageRole
from app.models.revocation import TokenRevocation
from app.models.user import User, UserRole

__all__ = [
    "Agent",
    "ApiKey",
    "Conversation",
    "DocumentStatus",
    "Execution",
    "ExecutionStatus",
    "IdempotencyKey",
    "KnowledgeBase",
    "KnowledgeChunk",
    "KnowledgeDocument",
    "Message",
    "MessageRole",
    "TokenRevocation",
    "User",
    "UserRole",
]
