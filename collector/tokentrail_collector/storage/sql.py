"""Every SQL statement of the collector, as named strings with server-side parameters.

Values only ever reach ClickHouse as `{name:Type}` parameters bound through `parameters=`.
Where a statement has optional parts (filters, grouping), it is assembled here from fixed
fragments chosen by name from the whitelists below; no caller-supplied text becomes SQL.
Reads of `spans` that count or sum use FINAL so that a span delivered twice counts once; reads
that only ask whether some span of a trace matches (search sets, most trace-list filters) need not.
"""

from __future__ import annotations

from functools import cache
from typing import Final

# --- migrations -----------------------------------------------------------------------------

CREATE_SCHEMA_MIGRATIONS: Final = """
CREATE TABLE IF NOT EXISTS schema_migrations
(
    version    UInt32,
    name       String,
    applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(applied_at)
ORDER BY version
"""

APPLIED_MIGRATIONS: Final = "SELECT version, name FROM schema_migrations FINAL ORDER BY version"

SCHEMA_MIGRATIONS_COLUMNS: Final = ("version", "name")

# Server stores only: `{name:Identifier}` is not accepted in CREATE DATABASE by every server
# version, so the database name is checked against a strict pattern and quoted by the caller.
CREATE_DATABASE: Final = "CREATE DATABASE IF NOT EXISTS {database}"

PING: Final = "SELECT 1"

# --- derived cost ---------------------------------------------------------------------------

# A span's cost is derived when it is read, never stored: the cost the span carried (cost_source
# sdk) if any, else its usage at the rates in force at its start for its model (the response
# model's price, else the request model's). The array parameters come from
# tokentrail_collector.pricing.CostPlan.parameters(): model name -> price timeline id, the eras
# its prices change at (most spans are after the last change: the count of earlier bounds is only
# computed for the others), (id, era) -> rates. `span_cost_usd` is tokentrail.pricing.usage_cost term
# by term; NULL (never 0) without a price or without tokens. Prepended to a SELECT.
COST_WITH: Final = """WITH
    transform(response_model, {price_names:Array(String)}, {price_ids:Array(UInt32)}, {price_unseen:UInt32})
        AS tt_response_price_id,
    if(tt_response_price_id = 0,
        transform(request_model, {price_names:Array(String)}, {price_ids:Array(UInt32)}, {price_unseen:UInt32}),
        tt_response_price_id) AS tt_price_id,
    toUInt64(tt_price_id) * {price_eras:UInt32}
        + if(toUnixTimestamp64Nano(start_time) >= {price_last_bound:Int64}, {price_eras:UInt32} - 1,
            arrayCount(bound -> bound <= toUnixTimestamp64Nano(start_time), {price_bounds:Array(Int64)})) AS tt_price_key,
    transform(tt_price_key, {price_keys:Array(UInt64)}, {price_input:Array(Float64)}, nan) AS tt_rate_input,
    transform(tt_price_key, {price_keys:Array(UInt64)}, {price_output:Array(Float64)}, nan) AS tt_rate_output,
    transform(tt_price_key, {price_keys:Array(UInt64)}, {price_cached_input:Array(Float64)}, nan)
        AS tt_rate_cached_input,
    transform(tt_price_key, {price_keys:Array(UInt64)}, {price_cache_write_input:Array(Float64)}, nan)
        AS tt_rate_cache_write_input,
    transform(tt_price_key, {price_keys:Array(UInt64)}, {price_reasoning:Array(Float64)}, nan) AS tt_rate_reasoning,
    ifNull(cost_usd,
        if(isNaN(tt_rate_input) OR (input_tokens IS NULL AND output_tokens IS NULL), NULL,
            (greatest(toInt64(ifNull(input_tokens, 0)) - toInt64(ifNull(cached_input_tokens, 0))
                    - toInt64(ifNull(cache_write_input_tokens, 0)), 0) * tt_rate_input
                + ifNull(cached_input_tokens, 0) * tt_rate_cached_input
                + ifNull(cache_write_input_tokens, 0) * tt_rate_cache_write_input
                + greatest(toInt64(ifNull(output_tokens, 0)) - toInt64(ifNull(reasoning_tokens, 0)), 0) * tt_rate_output
                + ifNull(reasoning_tokens, 0) * tt_rate_reasoning) / 1000000)) AS span_cost_usd,
    if(cost_usd IS NOT NULL, cost_source,
        if(span_cost_usd IS NULL, 'unknown',
            transform(tt_price_key, {price_keys:Array(UInt64)}, {price_sources:Array(String)}, 'unknown')))
        AS span_cost_source
"""

# The model names of rows the cost plan did not know: the reader learns them and reads again.
_UNSEEN_MODELS: Final = (
    "arrayConcat(groupUniqArrayIf(request_model, tt_price_id = {price_unseen:UInt32}),"
    " groupUniqArrayIf(response_model, tt_price_id = {price_unseen:UInt32})) AS unseen_models"
)

# --- spans ----------------------------------------------------------------------------------

SPANS_TABLE: Final = "spans"

# The canonical columns as read back, times also as exact integer nanoseconds.
_SPAN_SELECT_LIST: Final = """
    project_id, trace_id, span_id, parent_span_id, name, kind, service_name,
    toUnixTimestamp64Nano(start_time) AS start_time_ns,
    toUnixTimestamp64Nano(end_time) AS end_time_ns,
    duration_ms, time_to_first_token_ms,
    status_code, status_message, error_type, finish_reasons,
    provider, operation, request_model, response_model, is_streaming, request_params,
    input_tokens, output_tokens, cached_input_tokens, cache_write_input_tokens, reasoning_tokens, total_tokens,
    tokens_estimated,
    cost_usd, cost_source,
    input_text, output_text,
    gpu_util_avg, gpu_util_max, gpu_memory_peak_bytes, gpu_power_avg_watts, gpu_energy_joules,
    session_id, user_id, tags,
    attributes, resource_attributes, events
"""

# A span delivered twice is read once, its latest delivery (what FINAL keeps: the replacing
# engine's version is ingested_at, its key (start_time, span_id) within a trace). LIMIT 1 BY on
# the few rows of a trace is 3x cheaper than FINAL, which merges every part range the trace's
# rows fall in.
_LATEST_DELIVERY: Final = "ingested_at DESC LIMIT 1 BY trace_id, start_time, span_id"

# The stored cost, which the reader completes in Python (tokentrail_collector.pricing): for a
# handful of rows that is cheaper than the cost expressions.
TRACE_SPANS: Final = (
    "SELECT"
    + _SPAN_SELECT_LIST
    + """
FROM spans
WHERE project_id = {project_id:String} AND trace_id = {trace_id:String}
ORDER BY start_time, span_id, """
    + _LATEST_DELIVERY
    + "\n"
)

_WINDOW: Final = """
    project_id = {project_id:String}
    AND start_time >= fromUnixTimestamp64Nano({start_ns:Int64}, 'UTC')
    AND start_time < fromUnixTimestamp64Nano({end_ns:Int64}, 'UTC')"""

# A trace failed when any of its spans did; otherwise it is ok (OTel's "unset" means "no error").
_TRACE_STATUS: Final = "if(countIf(status_code = 'error') > 0, 'error', 'ok')"

# --- span content (GenAI content that arrived as log records, migration 0003) ----------------

SPAN_CONTENT_TABLE: Final = "span_content"

# The traces whose content records hold the search text: the trace list's search finds content
# that came as log records too. Evaluated once per query as a set (HAVING ... IN); empty, and
# nearly free, where content comes inside spans. A record is written during its span, so none of
# a span starting in the window is older than the window (which skips older partitions).
SPAN_CONTENT_SEARCH: Final = (
    "SELECT trace_id FROM span_content"
    " WHERE project_id = {project_id:String}"
    " AND time_unix_nano >= fromUnixTimestamp64Nano({start_ns:Int64}, 'UTC')"
    " AND positionCaseInsensitiveUTF8(content, {search:String}) > 0"
)

# A trace's content records, for merging into its spans (storage/content.py). No FINAL:
# `normalise.logs.content_texts` collapses a record delivered twice itself.
TRACE_CONTENT: Final = """
SELECT span_id, toUnixTimestamp64Nano(time_unix_nano) AS time_unix_nano, event_name, role, content
FROM span_content
WHERE project_id = {project_id:String} AND trace_id = {trace_id:String}
"""

# --- GPU metrics (OTLP metric points, migration 0005; the reads are in storage/gpu.py) ---------

GPU_METRICS_TABLE: Final = "gpu_metrics"

GPU_FILTERS: Final[dict[str, str]] = {
    "service": "service_name = {service:String}",
    "device": "(device_uuid = {device:String} OR toString(device_index) = {device:String})",
}

# Per device and bucket: the GPU gauges' figures. The energy is the counter's increase between
# consecutive points of a device (a step back, a driver reload, is unknown), given to the bucket
# of the later point; the inner read starts at {read_from_ns}, before the window, so that the
# window's first point has a step too. Metric names are bound as parameters.
_GPU_SERIES: Final = """
SELECT
    service_name, host, device_index, device_uuid,
    anyLast(device_name) AS device_name,
    toInt64(intDiv(toUnixTimestamp(time_unix_nano), {bucket_s:UInt32}) * {bucket_s:UInt32}) AS bucket_s,
    avgOrNullIf(value, metric = {utilization:String}) AS utilization_avg,
    maxOrNullIf(value, metric = {utilization:String}) AS utilization_max,
    maxOrNullIf(value, metric = {memory_used:String}) AS memory_used_max,
    avgOrNullIf(value, metric = {power:String}) AS power_avg,
    sumOrNullIf(energy_step, metric = {energy:String} AND energy_step IS NOT NULL) AS energy
FROM (
    SELECT service_name, host, device_index, device_uuid, device_name, metric, time_unix_nano, value,
        value - lagInFrame(toNullable(value)) OVER (
            PARTITION BY service_name, host, device_index, device_uuid, metric
            ORDER BY time_unix_nano ROWS BETWEEN 1 PRECEDING AND CURRENT ROW
        ) AS counter_step,
        if(counter_step >= 0, counter_step, NULL) AS energy_step
    FROM gpu_metrics FINAL
    WHERE project_id = {project_id:String}
        AND metric IN ({utilization:String}, {memory_used:String}, {power:String}, {energy:String})
        AND time_unix_nano >= fromUnixTimestamp64Nano({read_from_ns:Int64}, 'UTC')
        AND time_unix_nano < fromUnixTimestamp64Nano({end_ns:Int64}, 'UTC')"""


@cache
def gpu_series(filters: frozenset[str]) -> str:
    """The GPU series statement with the `filters` (keys of GPU_FILTERS) of the same names."""
    unknown = filters - GPU_FILTERS.keys()
    if unknown:
        raise ValueError(f"unknown GPU filters: {sorted(unknown)}")
    return (
        _GPU_SERIES
        + "".join("\n        AND " + GPU_FILTERS[name] for name in sorted(filters))
        + "\n)\nWHERE time_unix_nano >= fromUnixTimestamp64Nano({start_ns:Int64}, 'UTC')"
        "\nGROUP BY service_name, host, device_index, device_uuid, bucket_s"
        "\nORDER BY service_name, host, device_index, device_uuid, bucket_s"
    )


# --- scores (migration 0007; the other reads are in storage/scores.py) -----------------------

SCORES_TABLE: Final = "scores"

# (trace_id, span_id) of the scores named {score_name} whose label equals {score_value} and whose
# numeric value lies in [{score_min}, {score_max}], each of the three only when bound (NULL: any).
SCORE_MATCH: Final = (
    "SELECT trace_id, span_id\n    FROM scores FINAL"
    " WHERE project_id = {project_id:String} AND name = {score_name:String}"
    " AND ({score_value:Nullable(String)} IS NULL OR label = {score_value:Nullable(String)})"
    " AND ({score_min:Nullable(Float64)} IS NULL OR numeric_value >= {score_min:Nullable(Float64)})"
    " AND ({score_max:Nullable(Float64)} IS NULL OR numeric_value <= {score_max:Nullable(Float64)})"
)

_SCORED_TRACE_IDS: Final = "SELECT trace_id\nFROM (" + SCORE_MATCH + ")"

# The traces with a span in the window whose name, input or output text holds the search text.
# No FINAL: a span delivered twice holds the same text.
SPAN_TEXT_SEARCH: Final = """SELECT trace_id FROM spans
    WHERE project_id = {project_id:String}
        AND start_time >= fromUnixTimestamp64Nano({start_ns:Int64}, 'UTC')
        AND start_time < fromUnixTimestamp64Nano({end_ns:Int64}, 'UTC')
        AND (positionCaseInsensitiveUTF8(name, {search:String}) > 0
            OR positionCaseInsensitiveUTF8(input_text, {search:String}) > 0
            OR positionCaseInsensitiveUTF8(output_text, {search:String}) > 0)"""

# --- trace list -----------------------------------------------------------------------------

_TRACE_DURATION_MS: Final = (
    "(toUnixTimestamp64Nano(max(end_time)) - toUnixTimestamp64Nano(min(start_time))) / 1e6"
)

# Trace-level filters of the trace list: a trace matches when any of its spans does.
TRACE_FILTERS: Final[dict[str, str]] = {
    "service": "countIf(service_name = {service:String}) > 0",
    "model": "countIf(request_model = {model:String} OR response_model = {model:String}) > 0",
    "status": _TRACE_STATUS + " = {status:String}",
    # Sets evaluated once per query, so the grouping reads no text.
    "search": "(trace_id IN (" + SPAN_TEXT_SEARCH + ") OR trace_id IN (" + SPAN_CONTENT_SEARCH + "))",
    # A score matching on the trace or on any of its spans.
    "score": "trace_id IN (" + _SCORED_TRACE_IDS + ")",
    # Duration and cost of the trace's spans in the window (the UI's latency and cost filters).
    "min_duration_ms": _TRACE_DURATION_MS + " >= {min_duration_ms:Float64}",
    "min_cost_usd": "sum(span_cost_usd) >= {min_cost_usd:Float64}",
    "tag": "countIf(has(tags, {tag:String})) > 0",
}

# The filters of TRACE_FILTERS that are sets of trace ids.
_TRACE_SET_FILTERS: Final = frozenset({"search", "score"})

# Orders of the trace list; the trace id breaks ties so pages never overlap.
TRACE_ORDERS: Final[dict[str, str]] = {
    "newest": "min(start_time) DESC, trace_id DESC",
    "cost": "sum(span_cost_usd) DESC NULLS LAST, trace_id DESC",
    "duration": _TRACE_DURATION_MS + " DESC, trace_id DESC",
}


# Trace-list filters and orders that read span costs: their statement takes COST_WITH's parameters.
COST_TRACE_FILTERS: Final = frozenset({"min_cost_usd"})
COST_TRACE_ORDERS: Final = frozenset({"cost"})


def trace_page_needs_costs(filters: frozenset[str], order: str) -> bool:
    return bool(filters & COST_TRACE_FILTERS) or order in COST_TRACE_ORDERS


@cache
def trace_page(filters: frozenset[str], order: str = "newest") -> str:
    """The page of trace ids (newest first, or a key of TRACE_ORDERS) of the traces with a span
    starting in the window.

    Also returns the number of matching traces in every row (`total`). `filters` are keys of
    TRACE_FILTERS; their values are bound as parameters of the same names.
    Only costs need FINAL: a span delivered twice changes no other filter, order or count here.
    """
    unknown = filters - TRACE_FILTERS.keys()
    if unknown:
        raise ValueError(f"unknown trace filters: {sorted(unknown)}")
    if order not in TRACE_ORDERS:
        raise ValueError(f"unknown trace order {order!r}")
    # A set of trace ids keeps or drops whole traces, so it filters rows before the grouping, which
    # then only sums the matching traces (a search that matches few traces groups few).
    where = "".join("\n    AND " + TRACE_FILTERS[name] for name in sorted(filters & _TRACE_SET_FILTERS))
    having = " AND ".join(TRACE_FILTERS[name] for name in sorted(filters - _TRACE_SET_FILTERS))
    return (
        (COST_WITH if trace_page_needs_costs(filters, order) else "")
        + "SELECT trace_id, count() OVER () AS total"
        + ("\nFROM spans FINAL" if trace_page_needs_costs(filters, order) else "\nFROM spans")
        + "\nWHERE"
        + _WINDOW
        + where
        + "\nGROUP BY trace_id"
        + ("\nHAVING " + having if having else "")
        + "\nORDER BY "
        + TRACE_ORDERS[order]
        + "\nLIMIT {limit:UInt32} OFFSET {offset:UInt32}"
    )


# The spans of the traces {trace_ids}, each once, as _LATEST_DELIVERY reads them; a subquery of
# which ClickHouse reads only the columns that the outer query uses.
_LATEST_SPANS_OF_TRACES: Final = """
    SELECT * FROM spans
    WHERE project_id = {project_id:String} AND trace_id IN {trace_ids:Array(String)}
    ORDER BY ingested_at DESC LIMIT 1 BY trace_id, start_time, span_id
"""

# One row per trace of the page: whole traces, also the spans outside the window.
# The root is the span without a parent, else the earliest one.
TRACE_SUMMARIES: Final = (
    COST_WITH
    + """SELECT
    trace_id,
    argMin(name, (parent_span_id != '', start_time)) AS root_name,
    toUnixTimestamp64Nano(min(start_time)) AS start_ns,
    (toUnixTimestamp64Nano(max(end_time)) - toUnixTimestamp64Nano(min(start_time))) / 1e6 AS trace_duration_ms,
    """
    + _TRACE_STATUS
    + """ AS status,
    arraySort(arrayFilter(x -> x != '', groupUniqArray(service_name))) AS services,
    arraySort(arrayFilter(x -> x != '',
        arrayDistinct(arrayConcat(groupUniqArray(request_model), groupUniqArray(response_model))))) AS models,
    count() AS span_count,
    sum(ifNull(input_tokens, 0)) AS sum_input_tokens,
    sum(ifNull(output_tokens, 0)) AS sum_output_tokens,
    sum(ifNull(total_tokens, ifNull(input_tokens, 0) + ifNull(output_tokens, 0))) AS sum_total_tokens,
    sum(span_cost_usd) AS sum_cost_usd,
    """
    + _UNSEEN_MODELS
    + """
FROM ("""
    + _LATEST_SPANS_OF_TRACES
    + """)
GROUP BY trace_id
"""
)

# Dimensions of the stats query.
STATS_GROUPS: Final[dict[str, str]] = {
    "model": "if(request_model != '', request_model, response_model)",
    "provider": "provider",
    "service": "service_name",
    "error_type": "error_type",
}

STATS_FILTERS: Final[dict[str, str]] = {
    "service": "service_name = {service:String}",
    "model": "(request_model = {model:String} OR response_model = {model:String})",
}

_STATS_AGGREGATES: Final = """
    count() AS span_count,
    countIf(status_code = 'error') AS error_count,
    error_count / span_count AS error_rate,
    quantilesTDigest(0.5, 0.95, 0.99)(duration_ms) AS latency_ms,
    count(time_to_first_token_ms) AS ttft_count,
    quantilesTDigest(0.5, 0.95)(time_to_first_token_ms) AS ttft_ms,
    sum(ifNull(input_tokens, 0)) AS sum_input_tokens,
    sum(ifNull(output_tokens, 0)) AS sum_output_tokens,
    sum(ifNull(total_tokens, ifNull(input_tokens, 0) + ifNull(output_tokens, 0))) AS sum_total_tokens,
    sum(span_cost_usd) AS sum_cost_usd,
    countIf(span_cost_usd IS NULL
        AND ifNull(input_tokens, 0) + ifNull(output_tokens, 0) + ifNull(total_tokens, 0) > 0) AS unpriced_spans,
    sumIf(ifNull(input_tokens, 0), span_cost_usd IS NULL) AS unpriced_input_tokens,
    sumIf(ifNull(output_tokens, 0), span_cost_usd IS NULL) AS unpriced_output_tokens,
    countIf(gpu_energy_joules IS NOT NULL) AS gpu_span_count,
    sum(gpu_energy_joules) AS sum_gpu_energy_joules,
    sumIf(ifNull(output_tokens, 0), gpu_energy_joules IS NOT NULL) AS gpu_output_tokens"""


@cache
def stats(group_by: str | None, bucketed: bool, filters: frozenset[str]) -> str:
    """Aggregates per group (a key of STATS_GROUPS, or None) and per time bucket, in one pass.

    Bucketed statements take `{bucket_s:UInt32}`; `filters` are keys of STATS_FILTERS; costs are
    derived (COST_WITH and its parameters).
    Quantiles are t-digest estimates: about 3x cheaper per row than a deterministic reservoir.
    """
    return (
        stats_over_spans(group_by, bucketed, filters, _STATS_AGGREGATES + ",\n    " + _UNSEEN_MODELS)
        + "\nORDER BY bucket_s, group_key"
    )


def stats_over_spans(group_by: str | None, bucketed: bool, filters: frozenset[str], aggregates: str) -> str:
    """`aggregates` (a fixed select list) over the spans of the window, per group and bucket, with
    derived costs (`span_cost_usd`): the shape of `stats`, also used for tail sampling's scaled figures."""
    if group_by is not None and group_by not in STATS_GROUPS:
        raise ValueError(f"unknown stats group {group_by!r}")
    unknown = filters - STATS_FILTERS.keys()
    if unknown:
        raise ValueError(f"unknown stats filters: {sorted(unknown)}")
    group_expr = STATS_GROUPS[group_by] if group_by else "''"
    bucket_expr = (
        "intDiv(toUnixTimestamp(start_time), {bucket_s:UInt32}) * {bucket_s:UInt32}" if bucketed else "0"
    )
    where = _WINDOW + "".join("\n    AND " + STATS_FILTERS[name] for name in sorted(filters))
    return (
        COST_WITH
        + "SELECT\n    "
        + group_expr
        + " AS group_key,\n    toInt64("
        + bucket_expr
        + ") AS bucket_s,"
        + aggregates
        + "\nFROM spans FINAL\nWHERE"
        + where
        + "\nGROUP BY group_key, bucket_s"
    )


# --- custom prices (migration 0004; tokentrail_collector.pricing) ---------------------------

CUSTOM_PRICES_TABLE: Final = "custom_prices"
CUSTOM_PRICES_COLUMNS: Final = (
    "project_id", "pattern", "effective_from", "input", "output", "cached_input", "cache_write_input",
    "reasoning", "note", "deleted", "updated_at", "version",
)  # fmt: skip

# The latest version of each of a project's prices, deleted ones included (the reader skips them).
CUSTOM_PRICES_OF_PROJECT: Final = """
SELECT pattern, effective_from, input, output, cached_input, cache_write_input, reasoning, note, deleted
FROM custom_prices FINAL
WHERE project_id = {project_id:String}
ORDER BY pattern, effective_from
"""

# --- API keys -------------------------------------------------------------------------------

API_KEYS_TABLE: Final = "api_keys"
API_KEYS_COLUMNS: Final = (
    "key_id", "key_hash", "key_prefix", "project_id", "name", "created_at", "revoked_at", "version",
)  # fmt: skip

_KEY_SELECT: Final = """
SELECT key_id, key_hash, key_prefix, project_id, name, created_at, revoked_at, version
FROM api_keys FINAL
"""

KEY_BY_HASH: Final = _KEY_SELECT + "WHERE key_hash = {key_hash:String}"
KEY_BY_ID: Final = _KEY_SELECT + "WHERE key_id = {key_id:String}"
KEYS_ALL: Final = _KEY_SELECT + "ORDER BY created_at, key_id"
KEYS_OF_PROJECT: Final = _KEY_SELECT + "WHERE project_id = {project_id:String}\nORDER BY created_at, key_id"
