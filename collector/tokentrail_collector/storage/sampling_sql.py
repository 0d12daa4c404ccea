"""The scaled stats of tail sampling: the figures of `sql.stats` weighted by `sample_weight`.

A separate statement, read only with `/api/stats?scaled=true`, so that the plain stats stay as
they are (and as fast) whether sampling is on or off. Groups, buckets and filters are those of
`sql.stats` (the same whitelists), so its rows pair with the plain rows by (group, bucket).
"""

from __future__ import annotations

from functools import cache
from typing import Final

from tokentrail_collector.storage.sql import stats_over_spans

# A span kept only by its trace's hash stands for 1/rate spans (Horvitz-Thompson). The t-digest
# takes integer weights: thousandths keep a weight like 1/0.3 exact enough.
_SCALED_AGGREGATES: Final = """
    sum(sample_weight) AS estimated_span_count,
    sumIf(sample_weight, status_code = 'error') AS estimated_error_count,
    quantilesTDigestWeighted(0.5, 0.95, 0.99)(duration_ms, toUInt64(round(sample_weight * 1000)))
        AS estimated_latency_ms,
    sum(ifNull(input_tokens, 0) * sample_weight) AS estimated_input_tokens,
    sum(ifNull(output_tokens, 0) * sample_weight) AS estimated_output_tokens,
    sum(ifNull(total_tokens, ifNull(input_tokens, 0) + ifNull(output_tokens, 0)) * sample_weight)
        AS estimated_total_tokens,
    sum(span_cost_usd * sample_weight) AS estimated_cost_usd"""


@cache
def scaled_stats(group_by: str | None, bucketed: bool, filters: frozenset[str]) -> str:
    """The estimated figures per group and bucket, with the arguments of `sql.stats`."""
    return stats_over_spans(group_by, bucketed, filters, _SCALED_AGGREGATES)


# The ledger of spans sampled away (never stored) has hours, services and models only.
AWAY_GROUPS: Final[dict[str, str]] = {"model": "model", "service": "service_name"}
_AWAY_FILTERS: Final[dict[str, str]] = {
    "service": "service_name = {service:String}",
    "model": "model = {model:String}",
}


@cache
def sampled_away(group_by: str | None, bucketed: bool, filters: frozenset[str]) -> str:
    """What sampling held back and never stored, per group and bucket, by the hour of the spans'
    start (the window's first hour is counted whole). `group_by` is None or a key of AWAY_GROUPS."""
    if group_by is not None and group_by not in AWAY_GROUPS:
        raise ValueError(f"the sampled-away ledger cannot be grouped by {group_by!r}")
    unknown = filters - _AWAY_FILTERS.keys()
    if unknown:
        raise ValueError(f"unknown stats filters: {sorted(unknown)}")
    group_expr = AWAY_GROUPS[group_by] if group_by else "''"
    bucket_expr = "intDiv(toUnixTimestamp(hour), {bucket_s:UInt32}) * {bucket_s:UInt32}" if bucketed else "0"
    return (
        "SELECT\n    "
        + group_expr
        + " AS group_key,\n    toInt64("
        + bucket_expr
        + ") AS bucket_s,\n    sum(spans) AS sampled_away_spans,\n    sum(traces) AS sampled_away_traces"
        + "\nFROM sampled_away\nWHERE project_id = {project_id:String}"
        + "\n    AND hour >= toStartOfHour(fromUnixTimestamp64Nano({start_ns:Int64}, 'UTC'))"
        + "\n    AND hour < fromUnixTimestamp64Nano({end_ns:Int64}, 'UTC')"
        + "".join("\n    AND " + _AWAY_FILTERS[name] for name in sorted(filters))
        + "\nGROUP BY group_key, bucket_s"
    )
