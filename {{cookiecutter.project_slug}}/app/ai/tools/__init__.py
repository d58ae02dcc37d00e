"""Tools a model can call: typed arguments, a registry by name, and a concurrent runner."""

from app.ai.tools.base import Tool, ToolArguments, ToolContext, ToolError
from app.ai.tools.manager import ToolManager, ToolResult
from app.ai.tools.registry import ToolRegistry, UnknownToolError, build_default_registry

__all__ = [
    "Tool",
    "ToolArguments",
    "ToolContext",
    "ToolError",
    "ToolManager",
    "ToolRegistry",
    "ToolResult",
    "UnknownToolError",
    "build_default_registry",
]
