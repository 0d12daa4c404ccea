"""Head sampling by trace id, the same decision whether made by a sampler or in our processor.

Both use OpenTelemetry's `TraceIdRatioBased` rule (the low 64 bits of the trace id below
`rate * 2**64`), so every span of a trace gets the same answer, whichever path decides.
`AdjustableRatioSampler` exists because a provider's sampler cannot be replaced once tracers
hold it: a second `init()` with another rate changes the rate in place.
"""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.context import Context
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult, TraceIdRatioBased
from opentelemetry.trace import Link, SpanKind, get_current_span
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

TRACE_ID_MASK = TraceIdRatioBased.TRACE_ID_LIMIT


def bound_for_rate(rate: float) -> int:
    return TraceIdRatioBased.get_bound_for_rate(rate)


def is_sampled(trace_id: int, bound: int) -> bool:
    return trace_id & TRACE_ID_MASK < bound


class AdjustableRatioSampler(Sampler):
    """`TraceIdRatioBased` whose rate can be changed after the provider was built."""

    def __init__(self, rate: float) -> None:
        self.set_rate(rate)

    def set_rate(self, rate: float) -> None:
        self._rate = rate
        self._bound = bound_for_rate(rate)

    @property
    def rate(self) -> float:
        return self._rate

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        parent = get_current_span(parent_context).get_span_context()
        parent_state = parent.trace_state if parent.is_valid else None
        if trace_id & TRACE_ID_MASK < self._bound:
            return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes, parent_state)
        return SamplingResult(Decision.DROP, None, parent_state)

    def get_description(self) -> str:
        return f"TokentrailTraceIdRatioBased{{{self._rate}}}"
