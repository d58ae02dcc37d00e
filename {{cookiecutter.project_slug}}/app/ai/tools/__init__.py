"""Tools a model can call: typed arguments, catalogs, a registry by name, a concurrent runner."""

from app.ai.tools.base import Tool, ToolArguments, ToolContext, ToolError
from app.ai.tools.catalog import build_default_registry
from app.ai.tools.manager import ToolManager, ToolResult
from app.ai.tools.registry import ToolEntry, ToolRegistry, UnknownToolError

__all__ = [
    "Tool",
    "ToolArguments",
    "ToolContext",
    "ToolEntry",
    "ToolError",
    "ToolManager",
    "ToolRegistry",
    "ToolResult",
    "UnknownToolError",
    "build_default_registry",
]
