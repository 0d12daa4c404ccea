"""Every SQL statement of the collector, as named strings with server-side parameters.

Values only ever reach ClickHouse as `{name:Type}` parameters bound through `parameters=`.
Where a statement has optional parts (filters, grouping), it is assembled here from fixed
fragments chosen by name from the whitelists below; no caller-supplied text becomes SQL.
Reads of `spans` use FINAL so that a span delivered twice counts once.
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
    input_tokens, output_tokens, cached_input_tokens, reasoning_tokens, total_tokens, tokens_estimated,
    cost_usd, cost_source,
    input_text, output_text,
    gpu_util_avg, gpu_util_max, gpu_memory_peak_bytes, gpu_power_avg_watts, gpu_energy_joules,
    session_id, user_id, tags,
    attributes, resource_attributes, events
"""

TRACE_SPANS: Final = (
    "SELECT"
    + _SPAN_SELECT_LIST
    + """
FROM spans FINAL
WHERE project_id = {project_id:String} AND trace_id = {trace_id:String}
ORDER BY start_time, span_id
"""
)

_WINDOW: Final = """
    project_id = {project_id:String}
    AND start_time >= fromUnixTimestamp64Nano({start_ns:Int64}, 'UTC')
    AND start_time < fromUnixTimestamp64Nano({end_ns:Int64}, 'UTC')"""

# A trace failed when any of its spans did; otherwise it is ok (OTel's "unset" means "no error").
_TRACE_STATUS: Final = "if(countIf(status_code = 'error') > 0, 'error', 'ok')"

# Trace-level filters of the trace list: a trace matches when any of its spans does.
TRACE_FILTERS: Final[dict[str, str]] = {
    "service": "countIf(service_name = {service:String}) > 0",
    "model": "countIf(request_model = {model:String} OR response_model = {model:String}) > 0",
    "status": _TRACE_STATUS + " = {status:String}",
    "search": (
        "countIf(positionCaseInsensitiveUTF8(name, {search:String}) > 0"
        " OR positionCaseInsensitiveUTF8(input_text, {search:String}) > 0"
        " OR positionCaseInsensitiveUTF8(output_text, {search:String}) > 0) > 0"
    ),
}


@cache
def trace_page(filters: frozenset[str]) -> str:
    """The page of trace ids (newest first) of the traces with a span starting in the window.

    Also returns the number of matching traces in every row (`total`). `filters` are keys of
    TRACE_FILTERS; their values are bound as parameters of the same names.
    """
    unknown = filters - TRACE_FILTERS.keys()
    if unknown:
        raise ValueError(f"unknown trace filters: {sorted(unknown)}")
    having = " AND ".join(TRACE_FILTERS[name] for name in sorted(filters))
    return (
        "SELECT trace_id, count() OVER () AS total"
        "\nFROM spans FINAL"
        "\nWHERE"
        + _WINDOW
        + "\nGROUP BY trace_id"
        + ("\nHAVING " + having if having else "")
        + "\nORDER BY min(start_time) DESC, trace_id DESC"
        "\nLIMIT {limit:UInt32} OFFSET {offset:UInt32}"
    )


# One row per trace of the page: whole traces, also the spans outside the window.
# The root is the span without a parent, else the earliest one.
TRACE_SUMMARIES: Final = (
    """
SELECT
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
    sum(cost_usd) AS sum_cost_usd
FROM spans FINAL
WHERE project_id = {project_id:String} AND trace_id IN {trace_ids:Array(String)}
GROUP BY trace_id
"""
)

# Dimensions of the stats query.
STATS_GROUPS: Final[dict[str, str]] = {
    "model": "if(request_model != '', request_model, response_model)",
    "provider": "provider",
    "service": "service_name",
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
    sum(cost_usd) AS sum_cost_usd,
    countIf(cost_usd IS NULL
        AND ifNull(input_tokens, 0) + ifNull(output_tokens, 0) + ifNull(total_tokens, 0) > 0) AS unpriced_spans,
    sum(gpu_energy_joules) AS sum_gpu_energy_joules"""


@cache
def stats(group_by: str | None, bucketed: bool, filters: frozenset[str]) -> str:
    """Aggregates per group (a key of STATS_GROUPS, or None) and per time bucket, in one pass.

    Bucketed statements take `{bucket_s:UInt32}`; `filters` are keys of STATS_FILTERS.
    Quantiles are t-digest estimates: about 3x cheaper per row than a deterministic reservoir.
    """
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
        "SELECT\n    "
        + group_expr
        + " AS group_key,\n    toInt64("
        + bucket_expr
        + ") AS bucket_s,"
        + _STATS_AGGREGATES
        + "\nFROM spans FINAL\nWHERE"
        + where
        + "\nGROUP BY group_key, bucket_s\nORDER BY bucket_s, group_key"
    )


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
