"""The application's call only enqueues: with the collector hanging or gone, an observed call
returns without waiting for it and never opens a connection (or touches the disk) on its thread."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator

import pytest

import tokentrail
from tests.resilience.helpers import emit, wait_for
from tests.resilience.sink import Reply, ScriptedSink

# Audit events of the network and of files opened for writing, with the thread that raised them.
_WATCHED = {"socket.connect", "socket.getaddrinfo", "socket.sendmsg", "open"}
_events: list[tuple[str, int]] | None = None


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _events is None or event not in _WATCHED:
        return
    if event == "open" and not _writes(args):
        return  # reading (imports, linecache) is not what an outage could cause
    _events.append((event, threading.get_ident()))


def _writes(args: tuple[object, ...]) -> bool:
    """Whether an "open" audit event (path, mode, flags) opens for writing: open() gives a mode, os.open flags."""
    mode, flags = (args + (None, None))[1:3]
    if isinstance(mode, str):
        return any(letter in mode for letter in "wax+")
    return isinstance(flags, int) and bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))


sys.addaudithook(_audit)  # hooks cannot be removed; this one is idle unless `_events` is a list


@pytest.fixture
def audit() -> Iterator[list[tuple[str, int]]]:
    global _events
    _events = []
    try:
        yield _events
    finally:
        _events = None


def test_a_call_returns_while_the_collector_holds_the_worker(
    sink: ScriptedSink, audit: list[tuple[str, int]]
) -> None:
    release = threading.Event()
    sink.default = Reply(200, hold=release)
    try:
        tokentrail.init(endpoint=sink.url, schedule_delay_ms=10, max_export_batch_size=8)
        first = emit(1)
        wait_for(lambda: sink.holding == 1, what="the worker to be stuck in a request")
        later = emit(300)  # each returns although the only export in flight never ends
        assert len(later) == 300 and sink.holding == 1 and sink.arrivals == []
        caller = threading.get_ident()
        assert [event for event, thread in audit if thread == caller] == []
    finally:
        release.set()
    sink.default = Reply(200)
    assert tokentrail.flush(timeout_s=20) is True
    assert sorted(sink.delivered_span_ids()) == sorted(first + later)


def test_calls_with_the_collector_down_stay_off_the_network_and_the_disk(
    closed_port_url: str, audit: list[tuple[str, int]]
) -> None:
    tokentrail.init(
        endpoint=closed_port_url, schedule_delay_ms=10, max_queue_size=64, max_export_batch_size=8
    )
    emit(1)
    wait_for(lambda: tokentrail.export_stats().retries >= 1, what="the first failed attempt")
    caller = threading.get_ident()
    for _ in range(20):
        emit(10)  # enough to fill memory many times: the worker moves spans to the spool
    wait_for(lambda: tokentrail.export_stats().spooled > 0, what="the spill")
    assert [event for event, thread in audit if thread == caller] == []
    worker_events = {event for event, thread in audit if thread != caller}
    assert {"socket.connect", "open"} <= worker_events  # the worker did try the network and write files
