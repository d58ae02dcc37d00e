"""The tools every render ships with; each one runs with the least privilege it needs."""

from app.ai.tools.builtin.calculator import CalculatorTool
from app.ai.tools.builtin.clock import CurrentTimeTool
from app.ai.tools.builtin.files import ListFilesTool, ReadFileTool, WriteFileTool
from app.ai.tools.builtin.http_fetch import HttpFetchTool
from app.ai.tools.builtin.sql import SqlQueryTool

__all__ = [
    "CalculatorTool",
    "CurrentTimeTool",
    "HttpFetchTool",
    "ListFilesTool",
    "ReadFileTool",
    "SqlQueryTool",
    "WriteFileTool",
]
