"""The candidate spans of an eval dataset mined from a filter (see storage/datasets.py, analysis/datasets.py).

`candidate_spans(store, project_id, SpanCriteria(...))` reads the spans that match, oldest
first, with the columns a dataset item keeps. The statement is assembled from the fixed
fragments of CONDITIONS chosen by name; every value is a bound parameter. "Latency above a
percentile" is computed by ClickHouse over the spans that pass the other conditions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Final

from tokentrail import semconv as sc
from tokentrail_collector import pricing
from tokentrail_collector.analysis.datasets import MiningReport, NewItem, SampleOptions, mine
from tokentrail_collector.analysis.dedupe import DedupeMethod
from tokentrail_collector.storage import sql
from tokentrail_collector.storage.scores import scores_by_target
from tokentrail_collector.storage.store import Store
from tokentrail_collector.storage.validation import (
    MAX_TIME_NS,
    MIN_TIME_NS,
    TimeBound,
    iso_from_ns,
    to_ns,
    validate_project_id,
)

MAX_CANDIDATES: Final = 50_000
DEFAULT_CANDIDATES: Final = 10_000

# Conditions of the candidate spans; the chosen ones are ANDed. Values are bound parameters.
CONDITIONS: Final[dict[str, str]] = {
    "kinds": "kind IN {kinds:Array(String)}",
    "models": "(request_model IN {models:Array(String)} OR response_model IN {models:Array(String)})",
    "services": "service_name IN {services:Array(String)}",
    "status_error": "status_code = 'error'",
    "status_ok": "status_code != 'error'",
    "text": (
        "(positionCaseInsensitiveUTF8(input_text, {text:String}) > 0"
        " OR positionCaseInsensitiveUTF8(output_text, {text:String}) > 0)"
    ),
    "tags": "hasAll(tags, {tags:Array(String)})",
    "trace_ids": "trace_id IN {trace_ids:Array(String)}",
    "span_ids": "span_id IN {span_ids:Array(String)}",
    "latency_min": "duration_ms >= {latency_min_ms:Float64}",
    "cost_min": "span_cost_usd >= {cost_min_usd:Float64}",
    # A score on the span itself or on its whole trace.
    "score": "((trace_id, span_id) IN ("
    + sql.SCORE_MATCH
    + ") OR (trace_id, '') IN ("
    + sql.SCORE_MATCH
    + "))",
}

# The latency quantile of the spans passing the other conditions (which follow it).
_LATENCY_QUANTILE_OF: Final = """
        SELECT quantileExactInclusive({latency_quantile:Float64})(duration_ms)
        FROM spans FINAL
        WHERE"""

_CANDIDATE_SELECT: Final = """
SELECT trace_id, span_id, name, kind, service_name, toUnixTimestamp64Nano(start_time) AS start_ns,
    duration_ms, time_to_first_token_ms, status_code, provider, request_model, response_model,
    input_tokens, output_tokens, total_tokens, span_cost_usd AS derived_cost_usd, input_text, output_text, tags,
    count() OVER () AS matched
FROM spans FINAL
WHERE"""

_CANDIDATE_WHERE: Final = """
    project_id = {project_id:String}
    AND start_time >= fromUnixTimestamp64Nano({start_ns:Int64}, 'UTC')
    AND start_time < fromUnixTimestamp64Nano({end_ns:Int64}, 'UTC')
    AND input_text != ''"""


@cache
def candidate_statement(conditions: frozenset[str], latency_percentile: bool) -> str:
    """The candidate spans, oldest first, with the number of matches (`matched`) on every row.

    With `latency_percentile`, only spans at or above the {latency_quantile} quantile of the
    latency of the spans that pass the other conditions, computed by ClickHouse.
    """
    unknown = conditions - CONDITIONS.keys()
    if unknown:
        raise ValueError(f"unknown span conditions: {sorted(unknown)}")
    where = _CANDIDATE_WHERE + "".join("\n    AND " + CONDITIONS[name] for name in sorted(conditions))
    if latency_percentile:
        where += "\n    AND duration_ms >= (" + _LATENCY_QUANTILE_OF + where + "\n    )"
    # Cost as every other read sees it: the span's own, else derived from usage and the price plan.
    return (
        sql.COST_WITH
        + _CANDIDATE_SELECT
        + where
        + "\nORDER BY start_time, trace_id, span_id\nLIMIT {limit:UInt32}"
    )


# --- mining: the candidate spans of a filter ---------------------------------------------------


@dataclass(frozen=True)
class ScoreCriterion:
    """A score of this name, with this label (category, "true"/"false") and/or number range."""

    name: str
    value: str | None = None
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class SpanCriteria:
    """Which spans a dataset is mined from. Empty tuples and None mean "any"."""

    start: TimeBound = None
    end: TimeBound = None
    kinds: tuple[str, ...] = (sc.SpanKind.LLM.value,)
    models: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    status: str | None = None  # "ok" or "error"
    score: ScoreCriterion | None = None
    latency_percentile: float | None = None  # e.g. 95: the slowest 5% (of what the rest selects)
    latency_min_ms: float | None = None
    cost_min_usd: float | None = None
    text: str | None = None
    tags: tuple[str, ...] = ()
    trace_ids: tuple[str, ...] = ()  # e.g. a drift report's examples of a topic cluster
    span_ids: tuple[str, ...] = ()
    limit: int = DEFAULT_CANDIDATES

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_CANDIDATES:
            raise ValueError(f"limit must be within 1..{MAX_CANDIDATES}")
        if self.status not in (None, "ok", "error"):
            raise ValueError("status must be ok or error")
        if self.latency_percentile is not None and not 0 < self.latency_percentile < 100:
            raise ValueError("latency_percentile must be between 0 and 100")

    def describe(self) -> dict[str, object]:
        """The criteria as JSON-ready values, kept in the dataset's metadata."""
        described: dict[str, object] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if name in ("start", "end") and value is not None:
                value = iso_from_ns(to_ns(value, 0))
            elif isinstance(value, ScoreCriterion):
                value = {key: getattr(value, key) for key in ("name", "value", "min", "max")}
            elif isinstance(value, tuple):
                value = list(value)
            described[name] = value
        return described


def candidate_spans(
    store: Store, project_id: str, criteria: SpanCriteria
) -> tuple[list[dict[str, object]], int]:
    """(the first `criteria.limit` matching spans, oldest first, the number of all matches)."""
    parameters: dict[str, object] = {
        "project_id": validate_project_id(project_id),
        "start_ns": to_ns(criteria.start, MIN_TIME_NS),
        "end_ns": to_ns(criteria.end, MAX_TIME_NS),
        "limit": criteria.limit,
    }
    arrays = {
        "kinds": criteria.kinds,
        "models": criteria.models,
        "services": criteria.services,
        "tags": criteria.tags,
        "trace_ids": tuple(trace_id.lower() for trace_id in criteria.trace_ids),
        "span_ids": tuple(span_id.lower() for span_id in criteria.span_ids),
    }
    conditions = {name for name, values in arrays.items() if values}
    parameters.update((name, list(arrays[name])) for name in conditions)
    scalars = {
        "text": criteria.text,
        "latency_min_ms": criteria.latency_min_ms,
        "cost_min_usd": criteria.cost_min_usd,
    }
    for condition, parameter in (
        ("text", "text"),
        ("latency_min", "latency_min_ms"),
        ("cost_min", "cost_min_usd"),
    ):
        if scalars[parameter] is not None and scalars[parameter] != "":
            conditions.add(condition)
            parameters[parameter] = scalars[parameter]
    if criteria.status is not None:
        conditions.add("status_" + criteria.status)
    if criteria.score is not None:
        conditions.add("score")
        parameters.update(
            score_name=criteria.score.name,
            score_value=criteria.score.value,
            score_min=criteria.score.min,
            score_max=criteria.score.max,
        )
    if criteria.latency_percentile is not None:
        parameters["latency_quantile"] = criteria.latency_percentile / 100
    statement = candidate_statement(frozenset(conditions), criteria.latency_percentile is not None)
    parameters.update(pricing.price_book(store).plan(project_id).parameters())
    rows = list(store.query(statement, parameters).named_results())
    matched = int(rows[0]["matched"]) if rows else 0
    spans = []
    for row in rows:
        span = {
            key: value for key, value in row.items() if key not in ("start_ns", "matched", "derived_cost_usd")
        }
        span[sc.COST_USD] = row["derived_cost_usd"]
        span[sc.START_TIME] = iso_from_ns(int(row["start_ns"]))
        span[sc.TAGS] = list(row[sc.TAGS])
        spans.append(span)
    return spans, matched


def mine_items(
    store: Store,
    project_id: str,
    criteria: SpanCriteria,
    *,
    dedupe: DedupeMethod | None,
    sample: SampleOptions | None,
) -> tuple[list[NewItem], MiningReport]:
    """Dataset items from the spans matching `criteria` and their scores: deduplicated, sampled."""
    spans, matched = candidate_spans(store, project_id, criteria)
    scores = scores_by_target(store, project_id, [str(span[sc.TRACE_ID]) for span in spans])
    return mine(spans, scores, matched=matched, dedupe=dedupe, sample=sample)
