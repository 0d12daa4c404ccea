"""The reads behind the query API: trace list, one trace, aggregate stats.

Each function takes the store and the project id first and reads only that project's rows.
Duplicated deliveries of a span count once (the SQL reads with FINAL where a duplicate would
change a figure). Times come back as RFC 3339 text under the canonical names and as exact integer
nanoseconds beside them (`*_unix_nano`); the events column comes back decoded from its JSON text.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final, TypeVar

from tokentrail import semconv as sc
from tokentrail_collector import pricing  # the module: pricing imports storage in turn
from tokentrail_collector.storage import sampling, sql
from tokentrail_collector.storage.content import merge_span_content
from tokentrail_collector.storage.store import Store
from tokentrail_collector.storage.validation import (
    MAX_TIME_NS,
    MIN_TIME_NS,
    TimeBound,
    iso_from_ns,
    to_ns,
    validate_project_id,
)

# Keys of the result rows that are not canonical span columns.
START_TIME_UNIX_NANO: Final = "start_time_unix_nano"
END_TIME_UNIX_NANO: Final = "end_time_unix_nano"
STATUS: Final = "status"
SERVICES: Final = "services"
MODELS: Final = "models"
SPAN_COUNT: Final = "span_count"
ERROR_COUNT: Final = "error_count"
ERROR_RATE: Final = "error_rate"
GROUP: Final = "group"
BUCKET: Final = "bucket"
BUCKET_UNIX_NANO: Final = "bucket_unix_nano"
LATENCY_P50_MS: Final = "latency_p50_ms"
LATENCY_P95_MS: Final = "latency_p95_ms"
LATENCY_P99_MS: Final = "latency_p99_ms"
TTFT_P50_MS: Final = "ttft_p50_ms"
TTFT_P95_MS: Final = "ttft_p95_ms"
UNPRICED_SPANS: Final = "unpriced_spans"
UNPRICED_INPUT_TOKENS: Final = "unpriced_input_tokens"
UNPRICED_OUTPUT_TOKENS: Final = "unpriced_output_tokens"
ENERGY_PER_1K_OUTPUT_TOKENS: Final = "energy_per_1k_output_tokens"
GPU_SPAN_COUNT: Final = "gpu_span_count"

TRACE_STATUSES: Final = frozenset({sc.StatusCode.OK.value, sc.StatusCode.ERROR.value})
GROUP_BY: Final = frozenset(sql.STATS_GROUPS)
MAX_PAGE: Final = 1000

_NS_PER_S = 1_000_000_000

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TracePage:
    total: int  # traces matching the filters, over all pages
    traces: list[dict[str, object]] = field(default_factory=list)


def list_traces(
    store: Store,
    project_id: str,
    *,
    start: TimeBound = None,
    end: TimeBound = None,
    service: str | None = None,
    model: str | None = None,
    status: str | None = None,
    search: str | None = None,
    score_name: str | None = None,
    score_value: str | None = None,
    score_min: float | None = None,
    score_max: float | None = None,
    min_duration_ms: float | None = None,
    min_cost_usd: float | None = None,
    tag: str | None = None,
    sort: str = "newest",
    limit: int = 50,
    offset: int = 0,
) -> TracePage:
    """Traces with a span starting in [start, end), newest first, one summary row each.

    `service`, `model` (request or response model) and `search` (case-insensitive substring of
    a span's name, input or output text, or of content that arrived as log records) match when
    any span of the trace matches; `status`
    (ok, error) is the trace's: error if any span errored, else ok. `score_name` keeps the traces
    with a score of that name on the trace or one of its spans, whose label is `score_value`
    (a category, or "true"/"false") and whose number lies in [`score_min`, `score_max`], if given.
    `min_duration_ms` and `min_cost_usd` bound the trace's spans in the window, `tag` is a tag of
    one of them; `sort` is newest (default), cost or duration (largest first).
    The figures of a row cover the whole trace, spans outside the window included.
    """
    if sort not in sql.TRACE_ORDERS:
        raise ValueError(f"sort must be one of {sorted(sql.TRACE_ORDERS)}")
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be within 1..{MAX_PAGE}")
    if offset < 0:
        raise ValueError("offset must be >= 0")
    if status is not None and status not in TRACE_STATUSES:
        raise ValueError(f"status must be one of {sorted(TRACE_STATUSES)}")
    parameters: dict[str, object] = {
        "project_id": validate_project_id(project_id),
        "start_ns": to_ns(start, MIN_TIME_NS),
        "end_ns": to_ns(end, MAX_TIME_NS),
        "limit": limit,
        "offset": offset,
    }
    optional = {"service": service, "model": model, "status": status, "search": search, "tag": tag}
    filters = frozenset(name for name, value in optional.items() if value)
    parameters.update((name, optional[name]) for name in filters)
    bounds = {"min_duration_ms": min_duration_ms, "min_cost_usd": min_cost_usd}
    filters |= {name for name, value in bounds.items() if value is not None}
    parameters.update((name, value) for name, value in bounds.items() if value is not None)
    score_bounds = {"score_value": score_value, "score_min": score_min, "score_max": score_max}
    if score_name:
        filters |= {"score"}
        parameters.update(score_bounds, score_name=score_name)
    elif any(bound is not None for bound in score_bounds.values()):
        raise ValueError("score_value, score_min and score_max need score_name")

    def read(costs: dict[str, object]) -> tuple[TracePage, set[str]]:
        page_parameters = {**parameters, **costs} if sql.trace_page_needs_costs(filters, sort) else parameters
        page = store.query(sql.trace_page(filters, sort), page_parameters).result_rows
        if not page:
            # An offset past the end still reports the total.
            total = _count_only(store, filters, page_parameters) if offset else 0
            return TracePage(total=total, traces=[]), set()
        trace_ids = [trace_id for trace_id, _total in page]
        summaries = list(
            store.query(
                sql.TRACE_SUMMARIES, {"project_id": parameters["project_id"], "trace_ids": trace_ids, **costs}
            ).named_results()
        )
        by_id = {row["trace_id"]: row for row in summaries}
        traces = [_trace_row(by_id[trace_id]) for trace_id in trace_ids if trace_id in by_id]
        return TracePage(total=int(page[0][1]), traces=traces), _unseen_models(summaries)

    return _priced(store, project_id, read)


Result = TypeVar("Result")


def _priced(
    store: Store, project_id: str, read: Callable[[dict[str, object]], tuple[Result, set[str]]]
) -> Result:
    """`read` with the cost parameters of the project's price plan (storage.sql.COST_WITH); read
    again once when the rows named models the plan did not know, after learning them."""
    book = pricing.price_book(store)
    result, unseen = read(book.plan(project_id).parameters())
    if book.learn(project_id, unseen):
        result, _ = read(book.plan(project_id).parameters())
    return result


def _unseen_models(rows: Iterable[Mapping[str, object]]) -> set[str]:
    """Model names that a cost statement's price plan did not know, from its rows' `unseen_models`."""
    names: set[str] = set()
    for row in rows:
        names.update(row.get("unseen_models") or ())  # type: ignore[arg-type]
    return names


def _count_only(store: Store, filters: frozenset[str], parameters: dict[str, object]) -> int:
    rows = store.query(sql.trace_page(filters), {**parameters, "limit": 1, "offset": 0}).result_rows
    return int(rows[0][1]) if rows else 0


def _trace_row(row: dict[str, object]) -> dict[str, object]:
    start_ns = int(row["start_ns"])  # type: ignore[call-overload]
    return {
        sc.TRACE_ID: row["trace_id"],
        sc.NAME: row["root_name"],
        sc.START_TIME: iso_from_ns(start_ns),
        START_TIME_UNIX_NANO: start_ns,
        sc.DURATION_MS: row["trace_duration_ms"],
        STATUS: row["status"],
        SERVICES: row["services"],
        MODELS: row["models"],
        SPAN_COUNT: row["span_count"],
        sc.INPUT_TOKENS: row["sum_input_tokens"],
        sc.OUTPUT_TOKENS: row["sum_output_tokens"],
        sc.TOTAL_TOKENS: row["sum_total_tokens"],
        sc.COST_USD: row["sum_cost_usd"],
    }


def get_trace(store: Store, project_id: str, trace_id: str) -> list[dict[str, object]]:
    """Every span of a trace with all canonical columns, in start order; [] when absent.

    A span's empty input or output text is filled from content that arrived as log records.
    """
    project_id = validate_project_id(project_id)
    result = store.query(sql.TRACE_SPANS, {"project_id": project_id, "trace_id": trace_id})
    spans = []
    for row in result.named_results():
        span: dict[str, object] = {}
        for column in sc.CANONICAL_COLUMNS:
            if column == sc.START_TIME:
                span[column] = iso_from_ns(row["start_time_ns"])
                span[START_TIME_UNIX_NANO] = row["start_time_ns"]
            elif column == sc.END_TIME:
                span[column] = iso_from_ns(row["end_time_ns"])
                span[END_TIME_UNIX_NANO] = row["end_time_ns"]
            elif column == sc.EVENTS:
                span[column] = _events(row[column])
            else:
                span[column] = row[column]
        spans.append(span)
    merge_span_content(store, project_id, trace_id, spans)
    pricing.price_book(store).price_spans(project_id, spans, start_ns_key=START_TIME_UNIX_NANO)
    return spans


def stats(
    store: Store,
    project_id: str,
    *,
    start: TimeBound = None,
    end: TimeBound = None,
    group_by: str | None = "model",
    bucket_seconds: int | None = None,
    service: str | None = None,
    model: str | None = None,
    scaled: bool = False,
) -> list[dict[str, object]]:
    """Aggregates of the spans starting in [start, end), per group and per time bucket.

    `group_by` is model (the request model, else the response model), provider, service or
    None (one group, reported as None; spans without a value form the group ""). Buckets are
    aligned to multiples of `bucket_seconds` since the epoch; None gives one bucket (reported
    as None). Rows are ordered by bucket, then group. Quantiles are t-digest estimates.
    Costs are the spans' own, else derived from usage and prices (tokentrail_collector.pricing);
    the spans without a known cost are counted apart, with their tokens (`unpriced_*`).
    `scaled` adds `estimated_*` figures, each span weighted by its tail-sampling weight (a second
    read, storage/sampling_sql.py); with sampling off they equal the plain ones.
    """
    if group_by is not None and group_by not in GROUP_BY:
        raise ValueError(f"group_by must be one of {sorted(GROUP_BY)} or None")
    if bucket_seconds is not None and not 1 <= bucket_seconds <= 366 * 86_400:
        raise ValueError("bucket_seconds must be within 1..31622400")
    parameters: dict[str, object] = {
        "project_id": validate_project_id(project_id),
        "start_ns": to_ns(start, MIN_TIME_NS),
        "end_ns": to_ns(end, MAX_TIME_NS),
    }
    if bucket_seconds is not None:
        parameters["bucket_s"] = bucket_seconds
    optional = {"service": service, "model": model}
    filters = frozenset(name for name, value in optional.items() if value)
    parameters.update((name, optional[name]) for name in filters)

    statement = sql.stats(group_by, bucket_seconds is not None, filters)

    def read(costs: dict[str, object]) -> tuple[list[dict[str, object]], set[str]]:
        rows = list(store.query(statement, {**parameters, **costs}).named_results())
        if scaled:
            sampling.add_estimates(
                store,
                rows,
                group_by=group_by,
                bucketed=bucket_seconds is not None,
                filters=filters,
                parameters={**parameters, **costs},
            )
        return rows, _unseen_models(rows)

    return [
        _stats_row(row, grouped=group_by is not None, bucketed=bucket_seconds is not None)
        | sampling.estimates(row)
        for row in _priced(store, project_id, read)
    ]


def _stats_row(row: dict[str, object], *, grouped: bool, bucketed: bool) -> dict[str, object]:
    latency = row["latency_ms"]
    ttft = row["ttft_ms"] if row["ttft_count"] else None
    bucket_ns = int(row["bucket_s"]) * _NS_PER_S if bucketed else None  # type: ignore[call-overload]
    return {
        GROUP: row["group_key"] if grouped else None,
        BUCKET: iso_from_ns(bucket_ns) if bucket_ns is not None else None,
        BUCKET_UNIX_NANO: bucket_ns,
        SPAN_COUNT: row["span_count"],
        ERROR_COUNT: row["error_count"],
        ERROR_RATE: row["error_rate"],
        LATENCY_P50_MS: _number(latency, 0),
        LATENCY_P95_MS: _number(latency, 1),
        LATENCY_P99_MS: _number(latency, 2),
        TTFT_P50_MS: _number(ttft, 0),
        TTFT_P95_MS: _number(ttft, 1),
        sc.INPUT_TOKENS: row["sum_input_tokens"],
        sc.OUTPUT_TOKENS: row["sum_output_tokens"],
        sc.TOTAL_TOKENS: row["sum_total_tokens"],
        sc.COST_USD: row["sum_cost_usd"],
        UNPRICED_SPANS: row["unpriced_spans"],
        UNPRICED_INPUT_TOKENS: row["unpriced_input_tokens"],
        UNPRICED_OUTPUT_TOKENS: row["unpriced_output_tokens"],
        GPU_SPAN_COUNT: row["gpu_span_count"],
        sc.GPU_ENERGY_JOULES: row["sum_gpu_energy_joules"],
        ENERGY_PER_1K_OUTPUT_TOKENS: _energy_per_1k(row["sum_gpu_energy_joules"], row["gpu_output_tokens"]),
    }


def _energy_per_1k(energy_joules: object, output_tokens: object) -> float | None:
    """GPU joules per 1000 output tokens, over the spans that carry GPU figures; None (never 0)
    when no span had both."""
    if energy_joules is None or not isinstance(output_tokens, int) or output_tokens <= 0:
        return None
    return float(energy_joules) / output_tokens * 1000  # type: ignore[arg-type]


def _events(stored: object) -> list[object]:
    """The events column decoded: a JSON array of event objects ([] when empty or unreadable)."""
    if not isinstance(stored, str) or not stored:
        return []
    try:
        decoded = json.loads(stored)
    except ValueError:
        logger.warning("a span's events column is not valid JSON; returning no events")
        return []
    return decoded if isinstance(decoded, list) else [decoded]


def _number(values: object, index: int) -> float | None:
    if not isinstance(values, (list, tuple)) or index >= len(values):
        return None
    value = float(values[index])
    return None if math.isnan(value) else value
