"""What the collector's background loops (drift scheduler, retention) share: stopping one whose
work runs in a worker thread, which a cancellation cannot interrupt."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

logger = logging.getLogger(__name__)


async def stop_loop(
    task: asyncio.Task[None] | None, inflight: asyncio.Future[Any] | None, timeout_s: float, what: str
) -> None:
    """Cancel the loop's `task`, then wait for the `inflight` work it started (at most `timeout_s`),
    so that the store is not closed under it; a timeout or a failure of that work is only logged."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    if inflight is not None and not inflight.done():
        try:
            await asyncio.wait_for(asyncio.shield(inflight), timeout_s)
        except Exception:  # timed out, or the work failed (already logged)
            logger.warning("%s was still running at shutdown", what)
