"""Span normalisation: OTLP spans from any supported instrumentation into canonical span rows.

`normalise_traces` reads an ExportTraceServiceRequest into rows with exactly the columns of
`tokentrail.semconv.CANONICAL_COLUMNS`, keeping every attribute as sent beside the columns it
fills, and rejects (and counts) the spans that cannot be stored.

GenAI content sent as log records is read by `tokentrail_collector.normalise.logs`.
"""

from __future__ import annotations

from tokentrail_collector.normalise._traces import NormalisedBatch, normalise_traces

__all__ = ["NormalisedBatch", "normalise_traces"]
