"""OpenLIT: the OpenTelemetry GenAI names (read by the gen_ai dialects) plus its own figures.

It prices each call itself (`gen_ai.usage.cost`, USD: the cost comes from the SDK) and times the
first token in seconds. Older releases carried content in `gen_ai.content.prompt` /
`gen_ai.content.completion` span events, read by the gen_ai events dialect.
"""

from __future__ import annotations

from tokentrail import semconv as sc
from tokentrail_collector.normalise._dialect import Dialect, Read
from tokentrail_collector.normalise._values import (
    as_flag,
    as_milliseconds_from_seconds,
    as_non_negative_number,
)

OPENLIT = Dialect(
    "openlit",
    reads=(
        Read(sc.COST_USD, sc.OPENLIT_USAGE_COST, as_non_negative_number),
        Read(sc.TIME_TO_FIRST_TOKEN_MS, sc.OPENLIT_TIME_TO_FIRST_TOKEN, as_milliseconds_from_seconds),
        # gen_ai.request.stream is OpenLIT's, and Anthropic's SDK instrumentation sends it too.
        Read(sc.IS_STREAMING, sc.GEN_AI_REQUEST_STREAM, as_flag),
        Read(sc.IS_STREAMING, sc.OPENLIT_REQUEST_IS_STREAM, as_flag),
    ),
)
