"""Requests per second and latency of one route on one worker, ours and the bare app in turn."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from scripts.bench.environment import APPS, Lengths, alternate
from scripts.bench.load import Generator, Load
from scripts.bench.table import median


@dataclass
class Rounds:
    """Every timed stretch of load one route got, per app."""

    loads: dict[str, list[Load]] = field(default_factory=lambda: {app.name: [] for app in APPS})

    def per_second(self, name: str) -> float:
        """The median round's requests per second."""
        return median([load.per_second for load in self.loads[name]])

    def p50(self, name: str) -> float:
        """The median round's p50 latency, in ms."""
        return median([load.p50_ms for load in self.loads[name]])

    def p99(self, name: str) -> float:
        """The median round's p99 latency, in ms."""
        return median([load.p99_ms for load in self.loads[name]])

    def failures(self, name: str) -> int:
        """Answers that were not 2xx, or connections that failed, over every round."""
        return sum(load.failures for load in self.loads[name])


def load_rounds(
    generator: Generator,
    urls: Mapping[str, str],
    headers: Mapping[str, Mapping[str, str]],
    lengths: Lengths,
    served: dict[str, int],
) -> Rounds:
    """A warm-up, then `lengths.rounds` timed stretches per app, alternating who goes first.

    `urls` and `headers` are per app name; `served` counts every request sent to each.
    """
    rounds = Rounds()
    for app in APPS:
        warmup = generator.run(urls[app.name], lengths.warmup_seconds, headers[app.name])
        served[app.name] += warmup.requests
    for index in range(lengths.rounds):
        for app in alternate(APPS, index):
            load = generator.run(urls[app.name], lengths.load_seconds, headers[app.name])
            rounds.loads[app.name].append(load)
            served[app.name] += load.requests
    return rounds
