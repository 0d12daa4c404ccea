"""The span processor tokentrail adds to a tracer provider, once per provider.

OpenTelemetry offers no way to remove a processor from a provider, so a second `init()` does not
add another one (that would export every span twice): the processor stays and `init()` points it
at a new export queue, or at none after `shutdown()`. It also does the two per-span jobs that must
reach spans of every instrumentation: the `attributes()` values on start, and, on a provider the
application built, head sampling by trace id on end.
"""

from __future__ import annotations

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from tokentrail._context_attributes import current_attributes
from tokentrail._export_queue import ExportQueue
from tokentrail._internal import CAPTURE
from tokentrail._sampling import TRACE_ID_MASK, bound_for_rate

_SHUTDOWN_TIMEOUT_S = 10.0


class TokentrailSpanProcessor(SpanProcessor):
    def __init__(self) -> None:
        self._queue: ExportQueue | None = None
        self._sample_bound: int | None = None

    @property
    def queue(self) -> ExportQueue | None:
        return self._queue

    def route_to(self, queue: ExportQueue | None, *, sample_rate: float | None = None) -> None:
        """Send ended spans to `queue` (None: to nowhere); sample by trace id if `sample_rate`."""
        self._sample_bound = (
            None if sample_rate is None or sample_rate >= 1.0 else bound_for_rate(sample_rate)
        )
        self._queue = queue

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if self._queue is None:
            return
        with CAPTURE:
            values = current_attributes()
            if values:
                span.set_attributes(values)

    def on_end(self, span: ReadableSpan) -> None:
        queue = self._queue
        if queue is None:
            return
        with CAPTURE:
            context = span.context
            if context is None or not context.trace_flags.sampled:
                return
            bound = self._sample_bound
            if bound is not None and context.trace_id & TRACE_ID_MASK >= bound:
                return
            queue.offer(span)

    def shutdown(self) -> None:
        """The provider is shutting down (usually at exit): deliver what is queued, then stop."""
        queue = self._queue
        if queue is not None:
            with CAPTURE:
                queue.shutdown(_SHUTDOWN_TIMEOUT_S)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        queue = self._queue
        if queue is None:
            return True
        with CAPTURE:
            return queue.flush(timeout_millis / 1000)
        return False
