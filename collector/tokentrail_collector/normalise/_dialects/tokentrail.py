"""tokentrail's own attributes (`tokentrail.*`), for what OpenTelemetry has no name for."""

from __future__ import annotations

from tokentrail import semconv as sc
from tokentrail_collector.normalise._dialect import Dialect, Read
from tokentrail_collector.normalise._values import (
    AttributeValue,
    as_count,
    as_flag,
    as_non_negative_number,
    as_number,
    as_text,
    as_text_list,
)

_SPAN_KINDS = frozenset(kind.value for kind in sc.SpanKind)


def as_span_kind(value: AttributeValue) -> str | None:
    """One of the canonical span kinds, in any letter case; None for anything else."""
    if isinstance(value, str):
        kind = value.strip().lower()
        if kind in _SPAN_KINDS:
            return kind
    return None


TOKENTRAIL = Dialect(
    "tokentrail",
    reads=(
        Read(sc.KIND, sc.TT_SPAN_KIND, as_span_kind),
        Read(sc.INPUT_TEXT, sc.TT_INPUT, as_text),
        Read(sc.OUTPUT_TEXT, sc.TT_OUTPUT, as_text),
        Read(sc.COST_USD, sc.TT_COST_USD, as_non_negative_number),
        Read(sc.TAGS, sc.TT_TAGS, as_text_list),
        Read(sc.TIME_TO_FIRST_TOKEN_MS, sc.TT_TIME_TO_FIRST_TOKEN_MS, as_non_negative_number),
        Read(sc.IS_STREAMING, sc.TT_IS_STREAMING, as_flag),
        Read(sc.TOKENS_ESTIMATED, sc.TT_TOKENS_ESTIMATED, as_flag),
        Read(sc.GPU_UTIL_AVG, sc.TT_GPU_UTIL_AVG, as_number),
        Read(sc.GPU_UTIL_MAX, sc.TT_GPU_UTIL_MAX, as_number),
        Read(sc.GPU_MEMORY_PEAK_BYTES, sc.TT_GPU_MEMORY_PEAK_BYTES, as_count),
        Read(sc.GPU_POWER_AVG_WATTS, sc.TT_GPU_POWER_AVG_WATTS, as_number),
        Read(sc.GPU_ENERGY_JOULES, sc.TT_GPU_ENERGY_JOULES, as_non_negative_number),
    ),
)
