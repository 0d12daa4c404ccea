"""Guards that keep tokentrail's own failures away from the host application.

Everything the SDK does before and after the user's code runs inside
`capture_internal_exceptions()`: an error of ours is logged at debug level, handed to the
internal-error hook (tests turn it into a failure) and swallowed. Also here: a clock-based
limiter so that a failure repeated on every batch is logged once per interval.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from types import TracebackType

logger = logging.getLogger("tokentrail")

InternalErrorHook = Callable[[BaseException], None]

_internal_error_hook: InternalErrorHook | None = None


def set_internal_error_hook(hook: InternalErrorHook | None) -> InternalErrorHook | None:
    """Install `hook` to be told about every swallowed internal error; returns the previous hook."""
    global _internal_error_hook
    previous, _internal_error_hook = _internal_error_hook, hook
    return previous


def report_internal_error(error: BaseException) -> None:
    """Log a swallowed error of ours and pass it to the hook. Never raises."""
    try:
        logger.debug("tokentrail internal error (swallowed)", exc_info=error)
        hook = _internal_error_hook
        if hook is not None:
            hook(error)
    except Exception:  # noqa: S110 - the reporter itself must never raise into the app
        pass


class _CaptureInternalExceptions:
    """Swallow and report any `Exception` raised inside the block.

    A class rather than `@contextmanager`: it sits on the per-call path of `@observe`, and a
    stateless singleton with plain `__enter__`/`__exit__` costs a fraction of a generator-based one.
    `BaseException`s that are not `Exception`s (KeyboardInterrupt, SystemExit) pass through.
    """

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if exc is None or not isinstance(exc, Exception):
            return False
        report_internal_error(exc)
        return True


CAPTURE = _CaptureInternalExceptions()


def capture_internal_exceptions() -> _CaptureInternalExceptions:
    """Context manager around SDK work: our errors are reported and swallowed, never raised."""
    return CAPTURE


class IntervalGate:
    """Answers True at most once per `interval_s` (thread-safe); used to rate-limit log lines."""

    def __init__(self, interval_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval_s = interval_s
        self._clock = clock
        self._next_open = float("-inf")
        self._lock = threading.Lock()
        self.suppressed = 0

    def open(self) -> bool:
        now = self._clock()
        with self._lock:
            if now >= self._next_open:
                self._next_open = now + self._interval_s
                return True
            self.suppressed += 1
            return False


class RateLimitFilter(logging.Filter):
    """Logging filter letting through at most one WARNING-or-worse record per interval.

    Attached to the OTLP exporter's logger, which otherwise logs every failed batch (and every
    retry). The latest error is kept, with the retry warning before it (which names the cause),
    so the export statistics can show it.
    """

    def __init__(self, interval_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._gate = IntervalGate(interval_s, clock)
        self._warning: str | None = None
        self.last_message: str | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        try:
            text = record.getMessage()
            if record.levelno >= logging.ERROR:
                self.last_message = f"{text} ({self._warning})" if self._warning else text
                self._warning = None
            else:
                self._warning = text
        except Exception:  # noqa: S110 - a malformed record must not break logging
            pass
        return self._gate.open()


def reinit_in_forked_child(method: Callable[[], None]) -> None:
    """Call the bound `method` in the child after every `fork` while its object lives.

    A weak reference, so registering does not keep the object alive; the call is guarded like
    everything else tokentrail runs (os.register_at_fork has no way to unregister).
    """
    if not hasattr(os, "register_at_fork"):
        return
    weak_method = weakref.WeakMethod(method)

    def after_in_child() -> None:
        reinit = weak_method()
        if reinit is not None:
            with CAPTURE:
                reinit()

    os.register_at_fork(after_in_child=after_in_child)
