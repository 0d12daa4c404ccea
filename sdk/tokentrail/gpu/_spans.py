"""Puts the GPU figures of a span's lifetime on the span, as `tokentrail.gpu.*` attributes.

Only the end of a span knows its lifetime, and by `on_end` a span is read-only and already on
its way to the exporters. So the work is done in `_on_ending`, OpenTelemetry's (still
experimental) hook that every processor's `_on_ending` runs, in order, after the end time is set
and before any processor's `on_end` builds the exported `ReadableSpan`. Whatever this adds is
therefore seen by every exporter, whichever order the processors were added in.

One wrinkle: the Python SDK freezes the span's attribute map before `_on_ending` (against the
specification, which says the span is still mutable there: open-telemetry/opentelemetry-python
#5614), and `set_attribute` on an ended span only logs a warning. The attributes are therefore
written into the span's `BoundedAttributes` with its immutability lifted for the write, under
the span's lock (limits and value cleaning apply as for `set_attribute`). If a future SDK keeps
the span mutable there, the same code still works; if the SDK's internals change shape, nothing
is written and one line says so.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, SynchronousMultiSpanProcessor
from opentelemetry.util.types import AttributeValue

from tokentrail import semconv
from tokentrail._internal import CAPTURE, logger
from tokentrail.gpu._sampler import GpuSampler
from tokentrail.semconv import GenAiOperation, SpanKind

_MODEL_SPAN_KINDS = frozenset({SpanKind.LLM.value, SpanKind.EMBEDDING.value})
_MODEL_OPERATIONS = frozenset(
    {
        GenAiOperation.CHAT.value,
        GenAiOperation.TEXT_COMPLETION.value,
        GenAiOperation.GENERATE_CONTENT.value,
        GenAiOperation.EMBEDDINGS.value,
        GenAiOperation.COMPLETION.value,
    }
)
# Model-call values of other instrumentations' kind attributes (compared case-insensitively).
_OPENINFERENCE_MODEL_KINDS = frozenset({"llm", "embedding"})
_OPENLLMETRY_MODEL_REQUEST_TYPES = frozenset({"chat", "completion", "embedding", "embeddings"})


def on_ending_supported() -> bool:
    """Whether this opentelemetry-sdk calls `SpanProcessor._on_ending` (added in 2025)."""
    return hasattr(SynchronousMultiSpanProcessor, "_on_ending")


def is_model_span(attributes: Mapping[str, object] | None) -> bool:
    """A model call: `tokentrail.span.kind` llm/embedding, else what other instrumentations say."""
    if not attributes:
        return False
    kind = attributes.get(semconv.TT_SPAN_KIND)
    if kind is not None:
        return kind in _MODEL_SPAN_KINDS
    return (
        attributes.get(semconv.GEN_AI_OPERATION_NAME) in _MODEL_OPERATIONS
        or _lower(attributes.get(semconv.OI_SPAN_KIND)) in _OPENINFERENCE_MODEL_KINDS
        or _lower(attributes.get(semconv.LLM_REQUEST_TYPE)) in _OPENLLMETRY_MODEL_REQUEST_TYPES
    )


def _lower(value: object) -> str | None:
    return value.lower() if isinstance(value, str) else None


class GpuSpanProcessor(SpanProcessor):
    """Added once per tracer provider; `attach()` points it at a sampler, or at none."""

    def __init__(self) -> None:
        self._sampler: GpuSampler | None = None
        self._all_spans = False
        self._write_failure_logged = threading.Event()

    def attach(self, sampler: GpuSampler | None, *, all_spans: bool = False) -> None:
        self._all_spans = all_spans
        self._sampler = sampler

    @property
    def sampler(self) -> GpuSampler | None:
        return self._sampler

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def _on_ending(self, span: Span) -> None:
        sampler = self._sampler
        if sampler is None:
            return
        with CAPTURE:
            if not self._all_spans and not is_model_span(span.attributes):
                return
            start, end = span.start_time, span.end_time
            if start is None or end is None:
                return
            figures = sampler.window(start, end)
            if figures is None:
                return
            if not write_ended_span_attributes(span, figures.span_attributes()):
                if not self._write_failure_logged.is_set():
                    self._write_failure_logged.set()
                    logger.warning(
                        "tokentrail: this opentelemetry-sdk version does not let GPU figures be added "
                        "to ending spans; spans carry none (GPU metrics are unaffected)"
                    )

    def on_end(self, span: ReadableSpan) -> None:
        return None

    def shutdown(self) -> None:
        self._sampler = None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def write_ended_span_attributes(span: Span, values: dict[str, AttributeValue]) -> bool:
    """Add `values` to a span inside `_on_ending`; False if the SDK's span is not shaped as expected."""
    attributes = getattr(span, "_attributes", None)
    lock = getattr(span, "_lock", None)
    if not isinstance(attributes, BoundedAttributes) or not hasattr(attributes, "_immutable") or lock is None:
        return False
    with lock:
        frozen = attributes._immutable  # noqa: SLF001
        attributes._immutable = False  # noqa: SLF001
        try:
            for key, value in values.items():
                attributes[key] = value
        finally:
            attributes._immutable = frozen  # noqa: SLF001
    return True
