"""The Grafana dashboard in `deploy/grafana/` is valid JSON and charts only real series.

Every metric a panel queries must be one the rendered project defines in
`app/core/metrics.py`, so renaming a metric without the dashboard fails here.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from tests.conftest import Bake

# The suffixes Prometheus adds to a histogram's name.
HISTOGRAM_SERIES = ("_bucket", "_count", "_sum")
FUNCTIONS = {"sum", "rate", "by", "le", "histogram_quantile"}


def defined_series(metrics_py: Path) -> set[str]:
    """The series names the project's metrics module exposes, read with `ast`."""
    series: set[str] = set()
    for node in ast.walk(ast.parse(metrics_py.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        if node.func.id in {"Counter", "Gauge", "Histogram"} and node.args:
            first = node.args[0]
            assert isinstance(first, ast.Constant)
            assert isinstance(first.value, str)
            name = first.value
            if node.func.id == "Histogram":
                series.update(name + suffix for suffix in HISTOGRAM_SERIES)
            else:
                series.add(name)
    return series


def queried_series(expression: str) -> set[str]:
    """Metric names in a PromQL expression: what is left once grouping and labels are out."""
    without_strings = re.sub(r'"[^"]*"', '""', expression)
    without_labels = re.sub(r"\{[^}]*\}", "{}", without_strings)
    without_grouping = re.sub(r"\b(?:by|without)\s*\([^)]*\)", "", without_labels)
    names = set(re.findall(r"\b([a-z_][a-z0-9_]*)\b\s*(?:\{|\[|\))", without_grouping))
    return names - FUNCTIONS


@pytest.mark.parametrize("config_id", ["default", "bare"])
def test_every_panel_queries_a_defined_metric(baked: Bake, config_id: str) -> None:
    project = baked(config_id)
    dashboard = json.loads((project / "deploy/grafana/dashboard.json").read_text())
    series = defined_series(project / "app/core/metrics.py")
    assert dashboard["title"]
    assert len(dashboard["panels"]) >= 10
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            queried = queried_series(target["expr"])
            assert queried, (panel["title"], target["expr"])
            assert queried <= series, (panel["title"], queried - series)


def test_the_series_reader_finds_names_and_skips_labels_and_functions() -> None:
    expression = 'sum by (le, model) (rate(http_request_duration_seconds_bucket{route="/x"}[5m]))'
    assert queried_series(expression) == {"http_request_duration_seconds_bucket"}
    assert queried_series("sum(agent_runs_in_flight)") == {"agent_runs_in_flight"}
