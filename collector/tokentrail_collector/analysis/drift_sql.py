"""The ClickHouse statements of drift reports and drift monitors.

The large side of a report runs here: per-window counts, quantiles and category counts (one scan,
`summary`), histograms of the numeric features on bin edges shared by both windows (a second
scan, `histograms`), the example spans of what moved (`numeric_examples`, `category_examples`)
and the bounded, reproducible text samples of the topic features (`text_sample`, ordered by a
hash of the span id). They read only `spans FINAL`, scoped to the project.

Every value is a `{name:Type}` parameter. Statements are assembled from the fixed fragments
below, chosen by enum members (features, window fields, filters); no caller text becomes SQL.
The windows are tagged in the scan: a span in both windows (overlapping ranges, a span with
both tags) counts on both sides, through `arrayJoin`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Final

from tokentrail import semconv as sc
from tokentrail_collector.models_drift import FEATURE_KINDS, DriftFeature, FeatureKind, WindowField
from tokentrail_collector.storage import sql

# Cost as every other read sees it: the span's own, else derived from usage and the project's
# price plan (storage.sql.COST_WITH, prepended to the statements that read spans for features).
COST_EXPR: Final = "span_cost_usd"

# The model names of the project's spans in a time range: the price plan learns them before the
# cost feature is computed (names it has not seen would have no price).
MODEL_NAMES: Final = """
SELECT DISTINCT arrayJoin([request_model, response_model]) AS model
FROM spans
WHERE project_id = {project_id:String}
    AND start_time >= fromUnixTimestamp64Nano({start_ns:Int64}, 'UTC')
    AND start_time < fromUnixTimestamp64Nano({end_ns:Int64}, 'UTC')
LIMIT 5000"""

BASELINE: Final = "b"  # parameter prefixes of the two windows, and of the window of a sample
CURRENT: Final = "c"
SAMPLE: Final = "s"
SIDE_BOTH: Final = 0  # side numbers in the scans; SIDE_BOTH is the ROLLUP row of both together
SIDE_BASELINE: Final = 1
SIDE_CURRENT: Final = 2

NONE_LABEL: Final = "(none)"
ERROR_LABEL: Final = "error"  # error_rate's categories
OK_LABEL: Final = "ok"

# Percentile levels read per numeric feature: the edges of the fine histogram (KS) and, every
# tenth, of the PSI bins; the report's p10/p50/p90/p99 are among them.
PERCENTILE_LEVELS: Final[tuple[float, ...]] = tuple(round(i / 100, 2) for i in range(1, 100))
DECILE_INDEXES: Final[tuple[int, ...]] = tuple(range(9, 99, 10))
REPORT_QUANTILE_INDEXES: Final[dict[str, int]] = {"p10": 9, "p50": 49, "p90": 89, "p99": 98}

# The name of a tool call in the output messages (GenAI JSON: a part {"type": "tool_call", "id": ...,
# "name": ..., "arguments": {...}}, compact or not); [^{}] keeps a match inside one part.
TOOL_CALL_PATTERN: Final = r'"type"\s*:\s*"tool_call"[^{}]*?"name"\s*:\s*"([^"\\]*)"'

# Parameters every statement may use: constants bound like any other value.
CONSTANT_PARAMETERS: Final[dict[str, object]] = {
    "llm_kind": sc.SpanKind.LLM.value,
    "tool_kind": sc.SpanKind.TOOL.value,
    "error_status": sc.StatusCode.ERROR.value,
    "error_label": ERROR_LABEL,
    "ok_label": OK_LABEL,
    "none_label": NONE_LABEL,
    "release_key": sc.SERVICE_VERSION,
    "prompt_version_keys": list(sc.PROMPT_VERSION_KEYS),
    "tool_name_key": sc.GEN_AI_TOOL_NAME,
    "tool_call_pattern": TOOL_CALL_PATTERN,
}

_MODEL: Final = sql.STATS_GROUPS["model"]

# Per-span values of the numeric features (NULL: no value).
NUMERIC_EXPRESSIONS: Final[dict[DriftFeature, str]] = {
    DriftFeature.LATENCY: "duration_ms",
    DriftFeature.TIME_TO_FIRST_TOKEN: "time_to_first_token_ms",
    DriftFeature.INPUT_TOKENS: "toFloat64(input_tokens)",
    DriftFeature.OUTPUT_TOKENS: "toFloat64(output_tokens)",
    DriftFeature.COST: f"toFloat64({COST_EXPR})",
    # Bytes of the stored UTF-8 text (characters, for ASCII): the `.size` subcolumn is read
    # without the text itself, about 70 times faster than lengthUTF8 on 1 KB prompts.
    DriftFeature.PROMPT_LENGTH: "toFloat64(nullIf(input_text.size, 0))",
    DriftFeature.COMPLETION_LENGTH: "toFloat64(nullIf(output_text.size, 0))",
}

# Per-span categories of the categorical features, as arrays (a span may have several).
CATEGORY_EXPRESSIONS: Final[dict[DriftFeature, str]] = {
    DriftFeature.ERROR_RATE: "[if(status_code = {error_status:String}, {error_label:String}, {ok_label:String})]",
    DriftFeature.FINISH_REASONS: (
        "if(empty(finish_reasons), [{none_label:String}], arrayMap(x -> toString(x), finish_reasons))"
    ),
    DriftFeature.MODEL_MIX: f"[if({_MODEL} != '', {_MODEL}, {{none_label:String}})]",
    # A tool span counts its tool (gen_ai.tool.name, else its name); an LLM span the tools it
    # asked for, or (none).
    DriftFeature.TOOL_USAGE: (
        "if(kind = {tool_kind:String},"
        " [if(attributes[{tool_name_key:String}] != '', attributes[{tool_name_key:String}], toString(name))],"
        " if(empty(extractAll(output_text, {tool_call_pattern:String})), [{none_label:String}],"
        " extractAll(output_text, {tool_call_pattern:String})))"
    ),
}

TEXT_COLUMNS: Final[dict[DriftFeature, str]] = {
    DriftFeature.PROMPT_TOPICS: "input_text",
    DriftFeature.COMPLETION_TOPICS: "output_text",
}

# What makes a span belong to a window defined by a field's value (`{<prefix>_value:String}`).
WINDOW_FIELDS: Final[dict[WindowField, str]] = {
    WindowField.MODEL: _MODEL + " = {%s_value:String}",
    WindowField.SERVICE: "service_name = {%s_value:String}",
    WindowField.RELEASE: "resource_attributes[{release_key:String}] = {%s_value:String}",
    WindowField.PROMPT_VERSION: (
        "arrayFirst(x -> x != '', arrayMap(k -> attributes[k], {prompt_version_keys:Array(String)}))"
        " = {%s_value:String}"
    ),
    WindowField.TAG: "has(tags, {%s_value:String})",
}

FILTERS: Final = sql.STATS_FILTERS  # model (request or response model) and service


@dataclass(frozen=True)
class Shape:
    """What a statement depends on besides its parameters: the windows' fields and the filters."""

    baseline_field: WindowField | None
    current_field: WindowField | None
    filters: frozenset[str]

    def __post_init__(self) -> None:
        unknown = self.filters - FILTERS.keys()
        if unknown:
            raise ValueError(f"unknown drift filters: {sorted(unknown)}")


def window_predicate(prefix: str, field: WindowField | None) -> str:
    """Spans of one window: its time range (always bound; open ends as the extremes) and its field."""
    predicate = (
        f"start_time >= fromUnixTimestamp64Nano({{{prefix}_start_ns:Int64}}, 'UTC')"
        f" AND start_time < fromUnixTimestamp64Nano({{{prefix}_end_ns:Int64}}, 'UTC')"
    )
    if field is not None:
        predicate += " AND " + WINDOW_FIELDS[field] % prefix
    return "(" + predicate + ")"


def window_parameters(prefix: str, start_ns: int, end_ns: int, value: str | None) -> dict[str, object]:
    parameters: dict[str, object] = {f"{prefix}_start_ns": start_ns, f"{prefix}_end_ns": end_ns}
    if value is not None:
        parameters[f"{prefix}_value"] = value
    return parameters


def _filters(filters: frozenset[str]) -> str:
    return "".join("\n    AND " + FILTERS[name] for name in sorted(filters))


def _kinds(with_tools: bool) -> str:
    return "kind IN ({llm_kind:String}, {tool_kind:String})" if with_tools else "kind = {llm_kind:String}"


def _both_windows(shape: Shape, with_tools: bool, columns: str) -> str:
    """The spans of both windows, one row per (span, side), with `columns` computed per span."""
    baseline = window_predicate(BASELINE, shape.baseline_field)
    current = window_predicate(CURRENT, shape.current_field)
    return (
        sql.COST_WITH + "SELECT\n    arrayJoin(arrayFilter(s -> s > 0, ["
        f"if({baseline}, {SIDE_BASELINE}, 0), if({current}, {SIDE_CURRENT}, 0)])) AS side,"
        "\n    kind = {llm_kind:String} AS is_llm" + columns + "\nFROM spans FINAL"
        "\nWHERE project_id = {project_id:String}"
        "\n    AND start_time >= fromUnixTimestamp64Nano(least({b_start_ns:Int64}, {c_start_ns:Int64}), 'UTC')"
        "\n    AND start_time < fromUnixTimestamp64Nano(greatest({b_end_ns:Int64}, {c_end_ns:Int64}), 'UTC')"
        f"\n    AND ({baseline} OR {current})"
        f"\n    AND {_kinds(with_tools)}" + _filters(shape.filters)
    )


def _columns(features: frozenset[DriftFeature]) -> str:
    parts = []
    for feature in DriftFeature:
        if feature not in features:
            continue
        if feature in NUMERIC_EXPRESSIONS:
            parts.append(f",\n    {NUMERIC_EXPRESSIONS[feature]} AS v_{feature.value}")
        elif feature in CATEGORY_EXPRESSIONS:
            parts.append(f",\n    {CATEGORY_EXPRESSIONS[feature]} AS c_{feature.value}")
        else:
            parts.append(f",\n    {TEXT_COLUMNS[feature]}.size > 0 AS t_{feature.value}")
    return "".join(parts)


@cache
def summary(shape: Shape, features: frozenset[DriftFeature]) -> str:
    """Per side (1, 2) and both together (0, the ROLLUP row): span counts, and per feature the
    count of values, percentiles and mean (numeric), counts per category (categorical) or the
    count of texts (topics)."""
    with_tools = DriftFeature.TOOL_USAGE in features
    levels = ", ".join(str(level) for level in PERCENTILE_LEVELS)
    aggregates = [
        "\n    countIf(is_llm) AS spans",
        "\n    countIf(NOT is_llm) AS tool_spans",
    ]
    for feature in DriftFeature:
        if feature not in features:
            continue
        name = feature.value
        kind = FEATURE_KINDS[feature]
        if kind is FeatureKind.NUMERIC:
            aggregates += [
                f"\n    countIf(v_{name} IS NOT NULL AND is_llm) AS n_{name}",
                f"\n    quantilesTDigestIf({levels})(v_{name}, is_llm) AS q_{name}",
                f"\n    avgIf(v_{name}, is_llm) AS mean_{name}",
            ]
        elif kind is FeatureKind.CATEGORICAL:
            condition = "1" if feature is DriftFeature.TOOL_USAGE else "is_llm"
            aggregates += [
                f"\n    countIf({condition}) AS n_{name}",
                f"\n    sumMapIf(c_{name}, arrayMap(x -> toUInt64(1), c_{name}), {condition}) AS m_{name}",
            ]
        else:
            aggregates.append(f"\n    countIf(t_{name} AND is_llm) AS n_{name}")
    return _per_side(aggregates, _both_windows(shape, with_tools, _columns(features)), rollup=True)


def _per_side(aggregates: list[str], spans: str, *, rollup: bool) -> str:
    group = "ROLLUP(side)" if rollup else "side"
    return (
        "SELECT\n    side,"
        + ",".join(aggregates)
        + "\nFROM (\n"
        + spans
        + f"\n)\nGROUP BY {group}\nORDER BY side"
    )


def edges_parameter(feature: DriftFeature) -> str:
    return f"edges_{feature.value}"


@cache
def histograms(shape: Shape, features: frozenset[DriftFeature]) -> str:
    """Per side, per numeric feature: counts of values by the bin they fall in, as a map from the
    bin's lower edge to its count. Edges come as `{edges_<feature>:Array(Float64)}`, sorted, the
    first -inf (roundDown maps a value to the largest edge not above it)."""
    numeric = frozenset(feature for feature in features if feature in NUMERIC_EXPRESSIONS)
    if not numeric:
        raise ValueError("histograms need a numeric feature")
    aggregates = [
        f"\n    sumMapIf([roundDown(assumeNotNull(v_{f.value}), {{{edges_parameter(f)}:Array(Float64)}})],"
        f" [toUInt64(1)], v_{f.value} IS NOT NULL AND is_llm) AS h_{f.value}"
        for f in DriftFeature
        if f in numeric
    ]
    return _per_side(aggregates, _both_windows(shape, False, _columns(numeric)), rollup=False)


def _one_window(field: WindowField | None, filters: frozenset[str], with_tools: bool) -> str:
    return (
        "\nFROM spans FINAL"
        "\nWHERE project_id = {project_id:String}"
        f"\n    AND {window_predicate(SAMPLE, field)}"
        f"\n    AND {_kinds(with_tools)}" + _filters(filters)
    )


@cache
def numeric_examples(feature: DriftFeature, field: WindowField | None, filters: frozenset[str]) -> str:
    """Spans of one window with a value in [lo, hi), farthest from `center` first."""
    return (
        "SELECT trace_id, span_id, value\nFROM (\n"
        + sql.COST_WITH
        + "SELECT\n    trace_id, span_id, "
        + NUMERIC_EXPRESSIONS[feature]
        + " AS value"
        + _one_window(field, filters, False)
        + "\n)\nWHERE value >= {lo:Float64} AND value < {hi:Float64}"
        "\nORDER BY abs(value - {center:Float64}) DESC, span_id\nLIMIT {limit:UInt32}"
    )


@cache
def category_examples(feature: DriftFeature, field: WindowField | None, filters: frozenset[str]) -> str:
    """Spans of one window in a category, in a reproducible order."""
    return (
        "SELECT trace_id, span_id"
        + _one_window(field, filters, feature is DriftFeature.TOOL_USAGE)
        + f"\n    AND has({CATEGORY_EXPRESSIONS[feature]}, {{category:String}})"
        "\nORDER BY cityHash64(span_id), span_id\nLIMIT {limit:UInt32}"
    )


@cache
def text_sample(feature: DriftFeature, field: WindowField | None, filters: frozenset[str]) -> str:
    """Up to `limit` texts of one window's LLM spans (cut at `max_chars`), the same ones on every
    run: ordered by a hash of the span id."""
    column = TEXT_COLUMNS[feature]
    return (
        f"SELECT trace_id, span_id, substringUTF8({column}, 1, {{max_chars:UInt32}}) AS text"
        + _one_window(field, filters, False)
        + f"\n    AND {column} != ''"
        "\nORDER BY cityHash64(span_id), span_id\nLIMIT {limit:UInt32}"
    )


def parameters(*parts: Mapping[str, object]) -> dict[str, object]:
    """The constants plus the given parameters."""
    merged = dict(CONSTANT_PARAMETERS)
    for part in parts:
        merged.update(part)
    return merged


# --- monitors and their results ----------------------------------------------------------------

MONITORS_TABLE: Final = "drift_monitors"
MONITOR_COLUMNS: Final = (
    "project_id", "monitor_id", "name", "spec", "interval_s", "created_at", "deleted", "version",
)  # fmt: skip
_MONITOR_SELECT: Final = """
SELECT project_id, monitor_id, name, spec, interval_s, created_at
FROM drift_monitors FINAL
WHERE NOT deleted"""

MONITORS_ALL: Final = _MONITOR_SELECT + "\nORDER BY project_id, created_at, monitor_id"
MONITORS_OF_PROJECT: Final = (
    _MONITOR_SELECT + " AND project_id = {project_id:String}\nORDER BY created_at, monitor_id"
)
MONITOR_BY_ID: Final = (
    _MONITOR_SELECT + " AND project_id = {project_id:String} AND monitor_id = {monitor_id:String}"
)

RESULTS_TABLE: Final = "drift_results"
RESULT_COLUMNS: Final = (
    "project_id", "monitor_id", "evaluated_at", "status", "error", "feature_status", "feature_psi", "report",
)  # fmt: skip

# The latest evaluation of each monitor (all projects: the scheduler's view).
LAST_EVALUATIONS: Final = """
SELECT project_id, monitor_id, max(evaluated_at) AS last_evaluated_at, argMax(status, evaluated_at) AS last_status
FROM drift_results
GROUP BY project_id, monitor_id"""

LAST_EVALUATIONS_OF_PROJECT: Final = """
SELECT project_id, monitor_id, max(evaluated_at) AS last_evaluated_at, argMax(status, evaluated_at) AS last_status
FROM drift_results
WHERE project_id = {project_id:String}
GROUP BY project_id, monitor_id"""

RESULTS_OF_MONITOR: Final = """
SELECT monitor_id, evaluated_at, status, error, feature_status, feature_psi,
    if({with_report:Bool}, report, '') AS report
FROM drift_results FINAL
WHERE project_id = {project_id:String} AND monitor_id = {monitor_id:String}
    AND evaluated_at >= fromUnixTimestamp64Milli({since_ms:Int64}, 'UTC')
ORDER BY evaluated_at DESC
LIMIT {limit:UInt32}"""
