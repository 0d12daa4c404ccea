"""The drift scheduler with a fake runner: due monitors run, one at a time, errors don't stop it."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tokentrail_collector.analysis import drift_monitors
from tokentrail_collector.analysis.drift_monitors import DueMonitors, scheduled_time
from tokentrail_collector.analysis.drift_scheduler import DriftScheduler
from tokentrail_collector.models_drift import Monitor, MonitorCreate, MonitorResult
from tokentrail_collector.storage import Store


def monitor(name: str) -> Monitor:
    return Monitor.model_validate({
        "name": name, "interval_s": 3600, "monitor_id": name.ljust(32, "0"), "project_id": "p",
        "created_at": datetime(2026, 1, 1, tzinfo=timezone.utc),
        "baseline": {"last": "7d", "before": "24h"}, "current": {"last": "24h"},
    })  # fmt: skip


class FakeRunner:
    """Monitors due every `every_s` seconds, evaluations that take `run_s`."""

    def __init__(
        self, monitors: list[Monitor], *, every_s: float = 60, run_s: float = 0.02, fail_first: int = 0
    ) -> None:
        self.monitors = monitors
        self.every_s = every_s
        self.run_s = run_s
        self.fail_first = fail_first
        self.last: dict[str, float] = {}
        self.runs: list[str] = []
        self.running = 0
        self.most_at_once = 0
        self.lock = threading.Lock()
        self.due_calls = 0

    def due(self, now: datetime) -> DueMonitors:
        self.due_calls += 1
        clock = time.monotonic()
        due = [m for m in self.monitors if clock - self.last.get(m.monitor_id, -1e9) >= self.every_s]
        waits = [self.every_s - (clock - self.last[m.monitor_id]) for m in self.monitors if m not in due]
        return DueMonitors(due=due, next_due_in_s=min(waits) if waits else None)

    def run(self, monitor: Monitor, now: datetime) -> MonitorResult:
        with self.lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            time.sleep(self.run_s)
            self.last[monitor.monitor_id] = time.monotonic()
            if self.fail_first > 0:
                self.fail_first -= 1
                raise RuntimeError("store trouble")
            self.runs.append(monitor.name)
            return MonitorResult(
                monitor_id=monitor.monitor_id,
                evaluated_at=now,
                status="stable",
                feature_status={},
                feature_psi={},
            )
        finally:
            with self.lock:
                self.running -= 1


async def wait_for(condition, timeout_s: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_due_monitors_run_periodically_and_never_overlap() -> None:
    runner = FakeRunner([monitor("a"), monitor("b")], every_s=0.3, run_s=0.05)
    scheduler = DriftScheduler(runner, max_sleep_s=0.2)
    scheduler.start()
    try:
        await wait_for(lambda: runner.runs.count("a") >= 2 and runner.runs.count("b") >= 2)
        # on-demand runs from other threads share the scheduler's lock
        await asyncio.gather(*(asyncio.to_thread(scheduler.run_now, runner.monitors[0]) for _ in range(3)))
    finally:
        await scheduler.stop()
    assert runner.most_at_once == 1


async def test_errors_are_logged_and_the_loop_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    runner = FakeRunner([monitor("a")], every_s=0.3, fail_first=1)
    scheduler = DriftScheduler(runner, max_sleep_s=0.2, error_backoff_s=0.05)
    caplog.set_level(logging.ERROR, logger="tokentrail_collector.analysis.drift_scheduler")
    scheduler.start()
    try:
        await wait_for(lambda: "a" in runner.runs)
    finally:
        await scheduler.stop()
    assert any("evaluating monitor" in record.getMessage() for record in caplog.records)


async def test_a_failing_lookup_is_retried(caplog: pytest.LogCaptureFixture) -> None:
    runner = FakeRunner([monitor("a")])
    real_due = runner.due
    calls = {"n": 0}

    def flaky_due(now: datetime) -> DueMonitors:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("store unavailable")
        return real_due(now)

    runner.due = flaky_due  # type: ignore[method-assign]
    scheduler = DriftScheduler(runner, max_sleep_s=0.2, error_backoff_s=0.05)
    caplog.set_level(logging.ERROR, logger="tokentrail_collector.analysis.drift_scheduler")
    scheduler.start()
    try:
        await wait_for(lambda: runner.runs == ["a"])
    finally:
        await scheduler.stop()
    assert any("looking for due monitors failed" in r.getMessage() for r in caplog.records)


async def test_wake_looks_again_at_once_and_stop_waits_for_the_run_under_way() -> None:
    runner = FakeRunner([], run_s=0.3)
    scheduler = DriftScheduler(runner, max_sleep_s=60)
    scheduler.start()
    try:
        await wait_for(lambda: runner.due_calls == 1)
        runner.monitors.append(monitor("late"))
        scheduler.wake()
        await wait_for(lambda: runner.running == 1)
    finally:
        await scheduler.stop()
    assert runner.runs == ["late"], "stop() let the evaluation under way finish"
    calls = runner.due_calls
    await asyncio.sleep(0.1)
    assert runner.due_calls == calls, "nothing runs after stop()"


def test_a_scheduled_evaluation_is_made_for_the_start_of_its_interval() -> None:
    hourly = monitor("h")
    now = datetime(2026, 3, 4, 10, 59, 59, 999_000, tzinfo=timezone.utc)
    assert scheduled_time(hourly, now) == datetime(2026, 3, 4, 10, tzinfo=timezone.utc)
    assert scheduled_time(hourly, datetime(2026, 3, 4, 11, tzinfo=timezone.utc)) == datetime(
        2026, 3, 4, 11, tzinfo=timezone.utc
    )
    every_90_s = hourly.model_copy(update={"interval_s": 90})
    assert scheduled_time(every_90_s, now).timestamp() % 90 == 0
    assert now - scheduled_time(every_90_s, now) < timedelta(seconds=90)


async def test_two_collectors_evaluate_a_monitor_for_the_same_moment() -> None:
    """Each replica's scheduler stamps its evaluation with the interval's start, so the two results
    are one row of the results table (its key) rather than two."""
    stamped: list[datetime] = []

    class Recording(FakeRunner):
        def run(self, monitor: Monitor, now: datetime) -> MonitorResult:
            stamped.append(now)
            return super().run(monitor, now)

    shared = monitor("shared")
    moments = (
        datetime(2026, 3, 4, 10, 12, tzinfo=timezone.utc),
        datetime(2026, 3, 4, 10, 47, tzinfo=timezone.utc),
    )
    replicas = [
        DriftScheduler(Recording([shared]), max_sleep_s=60, clock=lambda moment=moment: moment)
        for moment in moments
    ]
    for replica in replicas:
        replica.start()
    try:
        await wait_for(lambda: len(stamped) == 2)
    finally:
        for replica in replicas:
            await replica.stop()
    assert stamped == [datetime(2026, 3, 4, 10, tzinfo=timezone.utc)] * 2


def test_results_of_one_interval_from_two_replicas_are_kept_once(tmp_path: Path) -> None:
    with Store.open(f"chdb://{tmp_path / 'store'}") as store:
        store.migrate()
        created = drift_monitors.create_monitor(
            store, "p", MonitorCreate.model_validate({
                "name": "hourly", "interval_s": 3600,
                "baseline": {"last": "7d", "before": "24h"}, "current": {"last": "24h"},
            }),
        )  # fmt: skip
        now = datetime.now(timezone.utc)
        for _replica in range(2):
            drift_monitors.evaluate_monitor(store, created, now=scheduled_time(created, now))
        results = drift_monitors.monitor_results(store, "p", created.monitor_id)
    assert [result.evaluated_at for result in results] == [scheduled_time(created, now)]
