"""`make bench` reads wrk's own report, so its figures are wrk's, failures included."""

from __future__ import annotations

import pytest

from scripts.bench.load import parse_wrk

WRK_REPORT = """\
Running 1s test @ http://127.0.0.1:18777/api/v1/users/me
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     6.13ms   15.34ms 121.78ms   92.84%
    Req/Sec     2.41k     1.59k    5.95k    75.00%
  Latency Distribution
     50%  850.00us
     75%    3.62ms
     90%   14.24ms
     99%    1.20s
  4822 requests in 1.04s, 1.12MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 17
Requests/sec:   4649.13
Transfer/sec:      1.08MB
"""


def test_a_wrk_report_gives_requests_latencies_and_failures() -> None:
    load = parse_wrk(WRK_REPORT)

    assert load.requests == 4822
    assert load.seconds == pytest.approx(1.04)
    assert load.per_second == pytest.approx(4822 / 1.04)
    assert load.p50_ms == pytest.approx(0.85)
    assert load.p99_ms == pytest.approx(1200.0)
    assert load.failures == 17 + 2 + 1


def test_a_report_without_the_latency_distribution_is_refused() -> None:
    without = "\n".join(line for line in WRK_REPORT.splitlines() if "%" not in line)

    with pytest.raises(ValueError, match="--latency"):
        parse_wrk(without)
