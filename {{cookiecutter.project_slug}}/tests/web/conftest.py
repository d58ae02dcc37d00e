"""Browser tests keep each phase's report, and say where their screenshots went."""

from __future__ import annotations

from collections.abc import Generator

import pytest

from tests.support.browser import PHASE_REPORTS, SCREENSHOTS


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Let fixtures see whether the test failed, to take a screenshot when it did."""
    report = yield
    item.stash.setdefault(PHASE_REPORTS, {})[report.when] = report
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print where the screenshots are, whether the tests passed or failed."""
    shots = terminalreporter.config.stash.get(SCREENSHOTS, [])
    if shots:
        terminalreporter.write_sep("-", "browser screenshots")
        for path in shots:
            terminalreporter.write_line(str(path))
