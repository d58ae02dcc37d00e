"""Browser tests: a live server, each phase's report, and where the screenshots went."""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pytest

from app.core.config import Settings
from tests.support.browser import PHASE_REPORTS, SCREENSHOTS
from tests.support.live_server import running_server


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


@pytest.fixture(scope="module")
def base_url(settings: Settings) -> Iterator[str]:
    """A real uvicorn server for this module's browser tests."""
    with running_server(settings) as url:
        yield url
