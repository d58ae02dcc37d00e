"""The one table `make bench` prints: each figure of ours beside the bare app's, and its target."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

NONE = "-"
HEADER = ("figure", "ours", "bare FastAPI", "ours/bare", "target", "met")


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank value below which `share` of `values` fall; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def median(values: Sequence[float]) -> float:
    """The middle value; NaN for no values."""
    return statistics.median(values) if values else math.nan


def ms(value: float) -> str:
    """Milliseconds with the precision the size deserves."""
    if math.isnan(value):
        return NONE
    return (
        f"{value:.2f} ms"
        if abs(value) < 10
        else f"{value:.1f} ms"
        if value < 100
        else f"{value:.0f} ms"
    )


def pair(first: float, second: float) -> str:
    """Two latencies as `a / b ms` (p50 / p95, p50 / p99)."""
    if math.isnan(first):
        return NONE
    return f"{ms(first).removesuffix(' ms')} / {ms(second)}"


def ratio(ours: float, bare: float) -> str:
    """Ours as a multiple of the bare app's figure."""
    if math.isnan(ours) or math.isnan(bare) or bare == 0:
        return NONE
    return f"{ours / bare:.2f}x"


@dataclass(frozen=True)
class Row:
    """One figure: ours, the bare app's, the target it has, and whether it meets it."""

    figure: str
    ours: str
    bare: str = NONE
    ratio: str = ""
    target: str = ""
    met: bool | None = None

    def cells(self) -> tuple[str, ...]:
        """The row as printed."""
        met = "" if self.met is None else "yes" if self.met else "NO"
        return (self.figure, self.ours, self.bare, self.ratio, self.target, met)


def render(title: str, rows: Sequence[Row], notes: Sequence[str] = ()) -> str:
    """The table as aligned text, with a title line above and notes below."""
    return grid(title, HEADER, [row.cells() for row in rows], notes, numeric=3)


def grid(
    title: str,
    header: Sequence[str],
    lines: Sequence[Sequence[str]],
    notes: Sequence[str] = (),
    *,
    numeric: int,
) -> str:
    """Cells in aligned columns: the first left, the next `numeric` right, the rest left."""
    table = [tuple(header), *(tuple(line) for line in lines)]
    widths = [max(len(line[column]) for line in table) for column in range(len(header))]
    rule = "  ".join("-" * width for width in widths)
    last = numeric + 1

    def text(line: tuple[str, ...]) -> str:
        first, *rest = line
        cells = [first.ljust(widths[0])]
        cells += [
            cell.rjust(width) for cell, width in zip(rest[:numeric], widths[1:last], strict=True)
        ]
        cells += [
            cell.ljust(width) for cell, width in zip(rest[numeric:], widths[last:], strict=True)
        ]
        return "  ".join(cells).rstrip()

    body = [title, rule, text(table[0]), rule, *(text(line) for line in table[1:]), rule]
    return "\n".join([*body, *notes])
