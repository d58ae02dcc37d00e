"""The benchmark's table: one line per figure, columns aligned, targets and misses visible."""

from __future__ import annotations

import math

from scripts.bench.table import Row, median, percentile, ratio, render


def test_every_row_is_printed_under_the_header_with_aligned_columns() -> None:
    rows = [
        Row("GET /health: requests/s", "1,958", "4,186", ratio(1958, 4186), ">= 0.8x bare", False),
        Row("SQL statements per turn", "15"),
    ]

    text = render("title line", rows, ["a note"])
    lines = text.splitlines()

    assert lines[0] == "title line"
    assert lines[-1] == "a note"
    header = next(line for line in lines if line.startswith("figure"))
    figures = [line for line in lines if line.startswith(("GET", "SQL"))]
    assert len(figures) == 2
    assert figures[0].endswith("NO")
    assert "0.47x" in figures[0]
    # Right-aligned numbers end where the header's column does.
    assert figures[0].index("4,186") + len("4,186") == header.index("bare FastAPI") + len(
        "bare FastAPI"
    )


def test_percentiles_are_nearest_rank_and_empty_samples_are_not_figures() -> None:
    values = [float(n) for n in range(1, 101)]

    assert percentile(values, 0.50) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([3.0], 0.99) == 3.0
    assert math.isnan(percentile([], 0.5))
    assert math.isnan(median([]))
    assert ratio(1.0, 0.0) == "-"
