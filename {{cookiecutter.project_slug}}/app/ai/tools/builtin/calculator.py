"""Arithmetic by walking a parsed expression tree: nothing is ever handed to `eval`.

Only numbers, arithmetic operators, parentheses and a short list of math functions and
constants are understood; any other syntax is refused. Sizes are capped before the
work is done, so `9**9**9` is refused instead of freezing the event loop.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

from pydantic import Field

from app.ai.tools.base import Tool, ToolArguments, ToolContext, ToolError

Number = int | float

MAX_EXPRESSION_LENGTH = 500
MAX_INT_BITS = 4096  # about 1,200 decimal digits: far past any real calculation
MAX_ROUND_DIGITS = 100

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "tau": math.tau}


def _round(value: Number, digits: int = 0) -> Number:
    """`round` with a bounded digit count: `round(1, -10**9)` would build a huge power of ten."""
    if not isinstance(digits, int) or abs(digits) > MAX_ROUND_DIGITS:
        raise ToolError(f"round() takes a whole number of digits up to {MAX_ROUND_DIGITS}")
    return round(value, digits)


_FUNCTIONS: dict[str, Callable[..., Number]] = {
    "abs": abs,
    "round": _round,
    "floor": math.floor,
    "ceil": math.ceil,
    "sqrt": math.sqrt,
    "exp": math.exp,
    "log": math.log,
    "log10": math.log10,
    "log2": math.log2,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "atan2": math.atan2,
    "hypot": math.hypot,
    "degrees": math.degrees,
    "radians": math.radians,
}


class CalculatorArgs(ToolArguments):
    """One expression, capped in length so parsing it stays cheap."""

    expression: str = Field(
        min_length=1,
        max_length=MAX_EXPRESSION_LENGTH,
        description="An arithmetic expression, e.g. '(2 + 3) * sqrt(16) / 7 % 3'.",
    )


def _check_power(base: Number, exponent: Number) -> None:
    """Refuse integer powers whose result would exceed the size cap, before computing them."""
    if (
        isinstance(base, int)
        and isinstance(exponent, int)
        and abs(base) > 1
        and exponent * math.log2(abs(base)) > MAX_INT_BITS
    ):
        raise ToolError(f"Result too large: over {MAX_INT_BITS} bits")


def _checked(value: Any) -> Number:
    """Keep every intermediate result real and bounded."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ToolError("The result is not a real number")
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise ToolError(f"Result too large: over {MAX_INT_BITS} bits")
    if isinstance(value, float) and math.isnan(value):
        raise ToolError("The result is not a number")
    if isinstance(value, float) and math.isinf(value):
        raise ToolError("Result too large")
    return value


def _evaluate(node: ast.AST) -> Number:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise ToolError(f"Unsupported literal: {node.value!r}")
        return _checked(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        return _checked(_BINARY[type(node.op)](left, right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _checked(_UNARY[type(node.op)](_evaluate(node.operand)))
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if isinstance(node, ast.Call):
        return _call(node)
    if isinstance(node, ast.Name):
        raise ToolError(f"Unknown name {node.id!r}; constants are: {', '.join(_CONSTANTS)}")
    raise ToolError(f"Unsupported syntax: {type(node).__name__}")


def _call(node: ast.Call) -> Number:
    if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
        raise ToolError(f"Only these functions are allowed: {', '.join(_FUNCTIONS)}")
    if node.keywords or any(isinstance(arg, ast.Starred) for arg in node.args):
        raise ToolError("Functions take plain positional arguments only")
    args = [_evaluate(arg) for arg in node.args]
    try:
        return _checked(_FUNCTIONS[node.func.id](*args))
    except TypeError:
        raise ToolError(f"Wrong number of arguments for {node.func.id}()") from None


def evaluate(expression: str) -> Number:
    """The value of an arithmetic expression, or a `ToolError` saying what is wrong."""
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise ToolError(f"Expression longer than {MAX_EXPRESSION_LENGTH} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise ToolError(f"Not a valid expression: {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise ToolError("Expression is nested too deeply") from None
    try:
        return _evaluate(tree)
    except ZeroDivisionError:
        raise ToolError("Division by zero") from None
    except OverflowError:
        raise ToolError("Result too large") from None
    except ValueError as exc:
        raise ToolError(f"Math error: {exc}") from None
    except RecursionError:
        raise ToolError("Expression is nested too deeply") from None


class CalculatorTool(Tool[CalculatorArgs]):
    """Exact arithmetic, which models get wrong when they do it in their heads."""

    name = "calculator"
    description = (
        "Evaluate an arithmetic expression exactly. Supports + - * / // % **, parentheses, "
        f"the constants {', '.join(_CONSTANTS)} and the functions {', '.join(_FUNCTIONS)}."
    )
    arguments = CalculatorArgs
    timeout_seconds = 5.0

    async def run(self, args: CalculatorArgs, context: ToolContext) -> str:
        """Evaluate on the event loop: every step is bounded, so it stays fast."""
        return repr(evaluate(args.expression))
