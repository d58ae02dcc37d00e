"""Model providers: one normalized contract, one adapter per vendor, loaded by name.

Importing this package loads no vendor SDK; `ProviderFactory.get` imports one on first use.
"""

from app.ai.providers.base import (
    ChatMessage,
    Completion,
    CompletionRequest,
    FinishReason,
    Provider,
    ProviderError,
    ProviderErrorKind,
    Role,
    StreamCompleted,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolDefinition,
    Usage,
)
from app.ai.providers.factory import ProviderFactory
from app.ai.providers.registry import (
    ProviderEntry,
    ProviderNotConfiguredError,
    ProviderRegistry,
    UnknownProviderError,
)

__all__ = [
    "ChatMessage",
    "Completion",
    "CompletionRequest",
    "FinishReason",
    "Provider",
    "ProviderEntry",
    "ProviderError",
    "ProviderErrorKind",
    "ProviderFactory",
    "ProviderNotConfiguredError",
    "ProviderRegistry",
    "Role",
    "StreamCompleted",
    "StreamEvent",
    "TextDelta",
    "ToolCall",
    "ToolDefinition",
    "UnknownProviderError",
    "Usage",
]
