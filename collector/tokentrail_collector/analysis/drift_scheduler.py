"""The collector's drift scheduler: an asyncio task that evaluates the monitors that are due.

It finds the due monitors and evaluates them one after another in a worker thread (the event
loop keeps serving requests), then sleeps until the next monitor is due, at most `max_sleep_s`;
creating a monitor wakes it. Evaluations never overlap: the scheduler's own and the on-demand
ones (`run_now`, behind `POST /api/drift/monitors/{id}/run`) take the same lock. An error is
logged and the loop goes on after `error_backoff_s`.

A scheduled evaluation is made for the start of the monitor's current interval
(`drift_monitors.scheduled_time`), not for the moment it runs: with several collectors on one
ClickHouse server, each runs its scheduler, and when more than one evaluates a monitor in an
interval their results are the same row, kept once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Protocol

from tokentrail_collector.analysis import drift_monitors
from tokentrail_collector.analysis.drift_monitors import DueMonitors
from tokentrail_collector.background import stop_loop
from tokentrail_collector.models_drift import Monitor, MonitorResult
from tokentrail_collector.storage import Store

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class MonitorRunner(Protocol):
    """Where monitors come from and how one is evaluated: the store, or a fake in tests."""

    def due(self, now: datetime) -> DueMonitors: ...

    def run(self, monitor: Monitor, now: datetime) -> MonitorResult: ...


class StoreMonitorRunner:
    def __init__(self, store: Store) -> None:
        self._store = store

    def due(self, now: datetime) -> DueMonitors:
        return drift_monitors.due_monitors(self._store, now)

    def run(self, monitor: Monitor, now: datetime) -> MonitorResult:
        return drift_monitors.evaluate_monitor(self._store, monitor, now=now)


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class DriftScheduler:
    def __init__(
        self,
        runner: MonitorRunner,
        *,
        max_sleep_s: float = 60.0,
        error_backoff_s: float = 10.0,
        stop_timeout_s: float = 30.0,
        clock: Clock = _utc_now,
    ) -> None:
        self._runner = runner
        self._max_sleep_s = max_sleep_s
        self._error_backoff_s = error_backoff_s
        self._stop_timeout_s = stop_timeout_s
        self._clock = clock
        self._lock = threading.Lock()  # one evaluation at a time
        self._stopping = threading.Event()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._inflight: asyncio.Future[float] | None = None

    @classmethod
    def for_store(cls, store: Store) -> DriftScheduler:
        return cls(StoreMonitorRunner(store))

    def start(self) -> None:
        """Start the loop on the running event loop (idempotent)."""
        if self._task is not None:
            return
        self._stopping.clear()
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="tokentrail-drift-scheduler")

    async def stop(self) -> None:
        """Stop the loop; an evaluation under way is waited for, at most `stop_timeout_s`."""
        self._stopping.set()
        task, self._task = self._task, None
        await stop_loop(task, self._inflight, self._stop_timeout_s, "a drift monitor evaluation")

    def wake(self) -> None:
        """Look for due monitors now (call on the event loop, e.g. after creating a monitor)."""
        if self._wake is not None:
            self._wake.set()

    def run_now(self, monitor: Monitor) -> MonitorResult:
        """Evaluate `monitor` now, after any evaluation under way (blocking: call in a thread)."""
        with self._lock:
            return self._runner.run(monitor, self._clock())

    async def _loop(self) -> None:
        assert self._wake is not None
        while not self._stopping.is_set():
            self._inflight = asyncio.ensure_future(asyncio.to_thread(self._evaluate_due))
            try:
                delay = await asyncio.shield(self._inflight)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("drift scheduler: looking for due monitors failed; retrying later")
                delay = self._error_backoff_s
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            self._wake.clear()

    def _evaluate_due(self) -> float:
        """Evaluate every due monitor; the seconds to sleep before looking again."""
        found = self._runner.due(self._clock())
        failed = False
        for monitor in found.due:
            if self._stopping.is_set():
                break
            try:
                with self._lock:
                    self._runner.run(monitor, drift_monitors.scheduled_time(monitor, self._clock()))
            except Exception:
                failed = True
                logger.exception("drift scheduler: evaluating monitor %s failed", monitor.monitor_id)
        if failed:
            return self._error_backoff_s
        if found.due:
            return 0.0  # others may have come due meanwhile
        if found.next_due_in_s is None:
            return self._max_sleep_s
        return min(self._max_sleep_s, found.next_due_in_s)
