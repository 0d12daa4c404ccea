"""The collector's retention task: an asyncio loop that runs a retention pass every interval.

The pass itself (storage/retention.py) runs in a worker thread, so the event loop keeps serving
requests. The first pass comes `first_delay_s` after start-up (not at once: a restarting
collector serves its backlog first), then one every `interval_s`; a changed retention applies at
the next pass. `run_now` (behind `POST /api/admin/retention/run`) runs a pass on demand; passes
never overlap. A failed pass is
logged and counted, and the loop goes on.

With several collectors on one ClickHouse server each runs the task; a second pass right after
another finds nothing to remove, and removes nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import datetime, timezone

from tokentrail_collector.background import stop_loop
from tokentrail_collector.storage import Store
from tokentrail_collector.storage.retention import RetentionPass, RetentionSettings, enforce
from tokentrail_collector.telemetry import Telemetry

logger = logging.getLogger("tokentrail.retention")


class RetentionTask:
    def __init__(
        self,
        store: Store,
        settings: RetentionSettings,
        telemetry: Telemetry,
        *,
        interval_s: float,
        first_delay_s: float,
    ) -> None:
        self._store = store
        self.settings = settings
        self._telemetry = telemetry
        self._interval_s = interval_s
        self._first_delay_s = first_delay_s
        self._lock = threading.Lock()  # one pass at a time
        self._task: asyncio.Task[None] | None = None
        self._inflight: asyncio.Future[RetentionPass] | None = None
        self.last_pass: RetentionPass | None = None

    @property
    def interval_s(self) -> float:
        return self._interval_s

    def start(self) -> None:
        """Start the loop on the running event loop (idempotent)."""
        if self._task is not None:
            return
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="tokentrail-retention")

    async def stop(self, timeout_s: float = 30.0) -> None:
        """Stop the loop; a pass under way is waited for (at most `timeout_s`) before the store closes."""
        task, self._task = self._task, None
        await stop_loop(task, self._inflight, timeout_s, "a retention pass")

    def run_now(self) -> RetentionPass:
        """One pass now, after any pass under way (blocking: call in a thread)."""
        with self._lock:
            try:
                result = enforce(self._store, self.settings.cutoffs(datetime.now(timezone.utc)))
            except Exception:
                self._telemetry.retention_pass_failed()
                raise
        self.last_pass = result
        self._telemetry.retention_pass(
            {table.table: (table.rows_removed, table.partitions_dropped) for table in result.tables}
        )
        _log(result)
        return result

    async def _loop(self) -> None:
        delay = self._first_delay_s
        while True:
            await asyncio.sleep(delay)
            delay = self._interval_s
            self._inflight = asyncio.ensure_future(asyncio.to_thread(self.run_now))
            try:
                await asyncio.shield(self._inflight)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("retention pass failed; retrying in %.0f s", self._interval_s)


def _log(result: RetentionPass) -> None:
    if not result.rows_removed:
        logger.info("retention pass: nothing expired (%.2f s)", result.duration_s)
        return
    parts = []
    for table in result.tables:
        if table.rows_removed:
            projects = ", ".join(
                f"{project}={count}" for project, count in sorted(table.deleted_by_project.items())
            )
            parts.append(
                f"{table.table}: {table.rows_removed} rows ({table.partitions_dropped} month partitions dropped"
                + (f"; deleted per project: {projects}" if projects else "")
                + ")"
            )
    logger.info("retention pass removed %d rows in %.2f s: %s", result.rows_removed, result.duration_s,
                "; ".join(parts))  # fmt: skip
