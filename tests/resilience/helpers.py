"""Helpers of the resilience tests: emit observed spans, wait for the export worker, check the accounting."""

from __future__ import annotations

import time
from collections.abc import Callable

from opentelemetry import trace

import tokentrail


@tokentrail.observe(name="work")
def work(index: int) -> str:
    return format(trace.get_current_span().get_span_context().span_id, "016x")


def emit(count: int) -> list[str]:
    """Make `count` observed calls; the span ids, in order."""
    return [work(index) for index in range(count)]


def wait_for(condition: Callable[[], bool], timeout_s: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def assert_accounted(stats: tokentrail.ExportStats) -> None:
    """emitted = delivered + rejected + spooled + counted drops, with nothing left in memory."""
    assert stats.pending == 0, stats
    assert stats.enqueued == stats.exported + stats.rejected_by_collector + stats.spooled + stats.dropped, (
        stats
    )
