"""Turn the raw samples of a benchmark run into the table's rows, each beside its target."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from scripts.bench.table import Row, median, ms, pair, percentile, ratio
from scripts.bench.throughput import Rounds

LOGINS = 20


@dataclass
class Results:
    """Everything one run measured, by app name ("ours", "bare") where both were measured."""

    database: str  # as the title names it
    cold_starts: dict[str, list[float]]
    routes: dict[str, Rounds]
    peak_rss_mb: dict[str, float]
    served: dict[str, int]
    first_events: dict[str, list[float]]
    turns: dict[str, list[float]]
    lag_ms: dict[str, float]
    login_failures: dict[str, list[str]]


def _p50_p95(values: Sequence[float]) -> tuple[float, float]:
    return percentile(values, 0.50), percentile(values, 0.95)


def _differences(minuend: Sequence[float], subtrahend: Sequence[float]) -> list[float]:
    """Pairwise differences of samples taken side by side."""
    return [a - b for a, b in zip(minuend, subtrahend, strict=True)]


def _route_rows(label: str, rounds: Rounds, floor: float, target: str) -> list[Row]:
    """Requests per second (with its target) and p50 / p99 latency of one route."""
    ours, bare = rounds.per_second("ours"), rounds.per_second("bare")
    failed = {name: rounds.failures(name) for name in ("ours", "bare")}

    def rate(name: str, value: float) -> str:
        shown = f"{value:,.0f}" if not math.isnan(value) else "-"
        return shown + (f" ({failed[name]} failed)" if failed[name] else "")

    return [
        Row(
            f"{label}: requests/s",
            rate("ours", ours),
            rate("bare", bare),
            ratio(ours, bare),
            target,
            ours >= floor * bare and not failed["ours"],
        ),
        Row(
            f"{label}: p50 / p99",
            pair(rounds.p50("ours"), rounds.p99("ours")),
            pair(rounds.p50("bare"), rounds.p99("bare")),
            ratio(rounds.p50("ours"), rounds.p50("bare")),
        ),
    ]


def rows(results: Results) -> list[Row]:
    """The table, top to bottom: start-up, HTTP, agent turns, streaming, loop lag, memory."""
    start = {name: median(samples) for name, samples in results.cold_starts.items()}
    trials = len(results.cold_starts["ours"])
    table = [
        Row(
            f"cold start to first /health (median of {trials})",
            ms(start["ours"]),
            ms(start["bare"]),
            ratio(start["ours"], start["bare"]),
            "< 1 s and <= 1.5x bare",
            start["ours"] < 1000 and start["ours"] <= 1.5 * start["bare"],
        ),
        *_route_rows("GET /health", results.routes["/health"], 0.8, ">= 0.8x bare"),
        *_route_rows(
            "GET /api/v1/users/me (bearer)", results.routes["/api/v1/users/me"], 0.3, ">= 0.3x bare"
        ),
    ]
    turns = results.turns
    turn, provider = _p50_p95(turns["turn_ms"]), _p50_p95(turns["provider_ms"])
    overhead = _p50_p95(_differences(turns["turn_ms"], turns["provider_ms"]))
    cpu = _p50_p95(_differences(turns["turn_cpu_ms"], turns["provider_cpu_ms"]))
    tool = _p50_p95(turns["tool_turn_ms"])
    table += [
        Row(
            "agent turn, scripted (bare: provider alone): p50 / p95",
            pair(*turn),
            pair(*provider),
        ),
        Row(
            "engine overhead per turn, with database: p50 / p95",
            pair(*overhead),
{%- if cookiecutter.database == "postgresql" %}
            target="< 5 ms on PostgreSQL",
            met=overhead[0] < 5 if results.database.startswith("PostgreSQL") else None,
{%- else %}
            target="< 5 ms",
            met=overhead[0] < 5,
{%- endif %}
        ),
        Row("engine loop-thread CPU per turn, no DB waits: p50 / p95", pair(*cpu)),
        Row(
            "SQL statements / pool checkouts per turn",
            f"{median(turns['statements']):.0f} / {median(turns['checkouts']):.0f}",
        ),
        Row("turn of a one-tool run (2 model calls): p50 / p95", pair(*tool)),
        Row("SQL statements per turn of a one-tool run", f"{median(turns['tool_statements']):.1f}"),
    ]
    sse = {name: _p50_p95(samples) for name, samples in results.first_events.items()}
    table.append(
        Row(
            "first SSE event of a streamed run: p50 / p95",
            pair(*sse["ours"]),
            pair(*sse["bare"]),
            ratio(sse["ours"][0], sse["bare"][0]),
        )
    )
    lag = results.lag_ms
    table.append(
        Row(
            f"worst event-loop lag, {LOGINS} concurrent logins",
            ms(lag["ours"]) + _failed(results.login_failures["ours"]),
            ms(lag["bare"]) + _failed(results.login_failures["bare"]),
            ratio(lag["ours"], lag["bare"]),
            "< 25 ms",
            lag["ours"] < 25 and not results.login_failures["ours"],
        )
    )
    rss = results.peak_rss_mb
    served = min(results.served.values())
    table.append(
        Row(
            f"peak RSS (VmHWM) after {served:,}+ requests",
            f"{rss['ours']:.0f} MiB",
            f"{rss['bare']:.0f} MiB",
            ratio(rss["ours"], rss["bare"]),
        )
    )
    return table


def _failed(reasons: list[str]) -> str:
    """`(5 failed: 503 x5)` after a figure some of whose requests failed."""
    if not reasons:
        return ""
    counted = ", ".join(f"{why} x{count}" for why, count in Counter(reasons).most_common())
    return f" ({len(reasons)} failed: {counted})"
