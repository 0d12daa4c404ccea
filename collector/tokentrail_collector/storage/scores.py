"""Scores on traces and spans (table `scores`, migration 0007): upserts, the score list, score stats.

A score's value is stored as a number (`numeric_value`; booleans as 1/0) and a label (`label`;
the category, or "true"/"false" for booleans), so the average per model and the count per
category are both plain aggregates. Writing a score id again replaces the score: the newest
`row_version` wins and every read collapses versions with FINAL.

Stats group scores by the model, provider or service of what was scored: a span score takes its
span's values; a trace score (or a span without a model) takes those of the trace's earliest span
that has one.
"""

from __future__ import annotations

import math
import re
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cache
from typing import Final

from tokentrail import semconv as sc
from tokentrail_collector.storage import sql
from tokentrail_collector.storage.store import Store
from tokentrail_collector.storage.validation import (
    MAX_TIME_NS,
    MIN_TIME_NS,
    TimeBound,
    iso_from_ns,
    to_ns,
    validate_project_id,
)

MAX_SCORES_PER_REQUEST: Final = 1_000
MAX_NAME_CHARS: Final = 200
MAX_LABEL_CHARS: Final = 1_000
MAX_COMMENT_CHARS: Final = 10_000
MAX_SCORE_ID_CHARS: Final = 128
MAX_PAGE: Final = 1000
SOURCES: Final = frozenset(source.value for source in sc.ScoreSource)
DATA_TYPES: Final = frozenset(kind.value for kind in sc.ScoreDataType)
GROUP_BY: Final = frozenset({"model", "provider", "service", "source"})

# Keys of the stats rows beside the canonical names.
GROUP: Final = "group"
BUCKET: Final = "bucket"
BUCKET_UNIX_NANO: Final = "bucket_unix_nano"
COUNT: Final = "count"
VALUE_COUNT: Final = "value_count"
AVG: Final = "avg"
MIN: Final = "min"
MAX: Final = "max"
COUNTS: Final = "counts"
TIMESTAMP_UNIX_NANO: Final = "timestamp_unix_nano"

_TRACE_ID = re.compile(r"[0-9a-f]{32}")
_SPAN_ID = re.compile(r"[0-9a-f]{16}")
_NS_PER_MS = 1_000_000
_NS_PER_S = 1_000_000_000
_TRUE_LABEL = "true"
_FALSE_LABEL = "false"

# --- statements -------------------------------------------------------------------------------

_SCORE_WHERE: Final = """
    project_id = {project_id:String}
    AND timestamp >= fromUnixTimestamp64Nano({start_ns:Int64}, 'UTC')
    AND timestamp < fromUnixTimestamp64Nano({end_ns:Int64}, 'UTC')
    AND ({trace_id:Nullable(String)} IS NULL OR trace_id = {trace_id:Nullable(String)})
    AND ({span_id:Nullable(String)} IS NULL OR span_id = {span_id:Nullable(String)})
    AND ({name:Nullable(String)} IS NULL OR name = {name:Nullable(String)})
    AND ({source:Nullable(String)} IS NULL OR source = {source:Nullable(String)})"""

SCORES_PAGE: Final = (
    """
SELECT score_id, trace_id, span_id, name, data_type, numeric_value, label, comment, source,
    toUnixTimestamp64Milli(timestamp) AS timestamp_ms, count() OVER () AS total
FROM scores FINAL
WHERE"""
    + _SCORE_WHERE
    + """
ORDER BY timestamp DESC, score_id
LIMIT {limit:UInt32} OFFSET {offset:UInt32}
"""
)

_SCORED: Final = (
    """
WITH scored AS (
    SELECT
        trace_id, span_id, name, data_type, numeric_value, label, source, timestamp
    FROM scores FINAL
    WHERE"""
    + _SCORE_WHERE
    + "\n)\n"
)

# What was scored: the span's own model, provider and service, and the trace's (its earliest
# span that has each), for trace scores and spans without a model.
_SPAN_FACTS: Final = """
LEFT JOIN (
    SELECT trace_id, span_id, if(request_model != '', request_model, response_model) AS model,
        provider, service_name
    FROM spans FINAL
    WHERE project_id = {project_id:String} AND trace_id IN (SELECT trace_id FROM scored)
) AS span_facts ON span_facts.trace_id = scored.trace_id AND span_facts.span_id = scored.span_id
LEFT JOIN (
    SELECT trace_id,
        argMinIf(if(request_model != '', request_model, response_model), start_time,
                 request_model != '' OR response_model != '') AS model,
        argMinIf(provider, start_time, provider != '') AS provider,
        argMinIf(service_name, start_time, service_name != '') AS service_name
    FROM spans FINAL
    WHERE project_id = {project_id:String} AND trace_id IN (SELECT trace_id FROM scored)
    GROUP BY trace_id
) AS trace_facts ON trace_facts.trace_id = scored.trace_id"""

STATS_GROUPS: Final[dict[str, str]] = {
    "model": "if(span_facts.model != '', span_facts.model, trace_facts.model)",
    "provider": "if(span_facts.provider != '', span_facts.provider, trace_facts.provider)",
    "service": "if(span_facts.service_name != '', span_facts.service_name, trace_facts.service_name)",
    "source": "scored.source",
}


@cache
def stats_statement(group_by: str | None, bucketed: bool) -> str:
    """Per score name, group, bucket and label: counts and the sums behind averages.

    Numbers have the label "" (one row); categories and booleans one row per label.
    """
    if group_by is not None and group_by not in STATS_GROUPS:
        raise ValueError(f"unknown score stats group {group_by!r}")
    group_expr = STATS_GROUPS[group_by] if group_by else "''"
    bucket_expr = (
        "intDiv(toUnixTimestamp(scored.timestamp), {bucket_s:UInt32}) * {bucket_s:UInt32}"
        if bucketed
        else "0"
    )
    joins = _SPAN_FACTS if group_by in ("model", "provider", "service") else ""
    return (
        _SCORED
        + "SELECT\n    scored.name AS score_name,\n    "
        + group_expr
        + " AS group_key,\n    toInt64("
        + bucket_expr
        + """) AS bucket_s,
    if(scored.data_type = 'numeric', '', scored.label) AS label_key,
    count() AS n,
    sum(scored.numeric_value) AS value_sum,
    count(scored.numeric_value) AS value_count,
    min(scored.numeric_value) AS value_min,
    max(scored.numeric_value) AS value_max
FROM scored"""
        + joins
        + "\nGROUP BY score_name, group_key, bucket_s, label_key"
        + "\nORDER BY bucket_s, score_name, group_key, label_key"
    )


# --- writes -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScoreInput:
    """One score to store; `span_id` "" scores the whole trace, `score_id` None gets a new id."""

    name: str
    value: float | bool | str
    trace_id: str
    span_id: str = ""
    comment: str = ""
    source: str = sc.ScoreSource.USER.value
    score_id: str | None = None
    timestamp: datetime | None = None


_version_lock = threading.Lock()
_last_version = 0


def _next_versions(count: int) -> int:
    """The first of `count` fresh row versions: nanoseconds, strictly increasing in this process,
    so the later of two writes of one score id wins even within one clock tick."""
    global _last_version
    with _version_lock:
        first = max(time.time_ns(), _last_version + 1)
        _last_version = first + count - 1
        return first


def score_row(project_id: str, score: ScoreInput, row_version: int, now: datetime) -> tuple[object, ...]:
    """The stored row (SCORE_COLUMNS order) of a score; ValueError naming what is wrong."""
    name = score.name.strip() if isinstance(score.name, str) else ""
    if not name or len(name) > MAX_NAME_CHARS:
        raise ValueError(f"name must be 1 to {MAX_NAME_CHARS} characters")
    trace_id = score.trace_id.lower() if isinstance(score.trace_id, str) else ""
    if not _TRACE_ID.fullmatch(trace_id):
        raise ValueError(f"trace_id must be 32 hex digits, got {score.trace_id!r}")
    span_id = score.span_id.lower() if isinstance(score.span_id, str) else None
    if span_id is None or (span_id and not _SPAN_ID.fullmatch(span_id)):
        raise ValueError(f"span_id must be 16 hex digits or empty, got {score.span_id!r}")
    if score.source not in SOURCES:
        raise ValueError(f"source must be one of {sorted(SOURCES)}, got {score.source!r}")
    if len(score.comment) > MAX_COMMENT_CHARS:
        raise ValueError(f"comment is longer than {MAX_COMMENT_CHARS} characters")
    score_id = score.score_id if score.score_id is not None else uuid.uuid4().hex
    if not 1 <= len(score_id) <= MAX_SCORE_ID_CHARS:
        raise ValueError(f"score_id must be 1 to {MAX_SCORE_ID_CHARS} characters")
    data_type, numeric, label = split_value(score.value)
    timestamp = score.timestamp or now
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=timezone.utc)
    return (
        validate_project_id(project_id), score_id, trace_id, span_id, name, data_type, numeric, label,
        score.comment, score.source, timestamp, row_version,
    )  # fmt: skip


def split_value(value: object) -> tuple[str, float | None, str]:
    """(data type, numeric value, label) of a score value: a bool, a finite number or a category."""
    if isinstance(value, bool):
        return sc.ScoreDataType.BOOLEAN.value, float(value), _TRUE_LABEL if value else _FALSE_LABEL
    if isinstance(value, (int, float)):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"a numeric score must be finite, got {value!r}")
        return sc.ScoreDataType.NUMERIC.value, number, ""
    if isinstance(value, str):
        if not value or len(value) > MAX_LABEL_CHARS:
            raise ValueError(f"a categorical score must be 1 to {MAX_LABEL_CHARS} characters")
        return sc.ScoreDataType.CATEGORICAL.value, None, value
    raise ValueError(f"value must be a number, a bool or a string, not {type(value).__name__}")


def write_scores(store: Store, project_id: str, scores: Sequence[ScoreInput]) -> list[str]:
    """Store (or replace, by score id) these scores in one insert; their ids, in order.

    Everything is checked first: one invalid score raises ValueError and nothing is written.
    """
    if not scores:
        return []
    if len(scores) > MAX_SCORES_PER_REQUEST:
        raise ValueError(f"at most {MAX_SCORES_PER_REQUEST} scores per request")
    now = datetime.now(timezone.utc)
    first_version = _next_versions(len(scores))
    rows = []
    for index, score in enumerate(scores):
        try:
            rows.append(score_row(project_id, score, first_version + index, now))
        except ValueError as error:
            raise ValueError(f"score {index}: {error}") from None
    store.insert_rows(sql.SCORES_TABLE, sc.SCORE_COLUMNS, rows)
    return [str(row[1]) for row in rows]


# --- reads ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScorePage:
    total: int
    scores: list[dict[str, object]] = field(default_factory=list)


def _filter_parameters(
    project_id: str,
    start: TimeBound,
    end: TimeBound,
    trace_id: str | None,
    span_id: str | None,
    name: str | None,
    source: str | None,
) -> dict[str, object]:
    if source is not None and source not in SOURCES:
        raise ValueError(f"source must be one of {sorted(SOURCES)}")
    return {
        "project_id": validate_project_id(project_id),
        "start_ns": to_ns(start, MIN_TIME_NS),
        "end_ns": to_ns(end, MAX_TIME_NS),
        "trace_id": trace_id.lower() if trace_id else None,
        "span_id": span_id.lower() if span_id is not None else None,
        "name": name or None,
        "source": source,
    }


def list_scores(
    store: Store,
    project_id: str,
    *,
    trace_id: str | None = None,
    span_id: str | None = None,
    name: str | None = None,
    source: str | None = None,
    start: TimeBound = None,
    end: TimeBound = None,
    limit: int = 100,
    offset: int = 0,
) -> ScorePage:
    """Scores given in [start, end), newest first; `span_id` "" selects the scores of whole traces."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be within 1..{MAX_PAGE}")
    if offset < 0:
        raise ValueError("offset must be >= 0")
    parameters = _filter_parameters(project_id, start, end, trace_id, span_id, name, source)
    parameters.update(limit=limit, offset=offset)
    rows = list(store.query(SCORES_PAGE, parameters).named_results())
    if not rows and offset:
        counted = list(store.query(SCORES_PAGE, {**parameters, "limit": 1, "offset": 0}).named_results())
        return ScorePage(total=int(counted[0]["total"]) if counted else 0)  # type: ignore[call-overload]
    total = int(rows[0]["total"]) if rows else 0  # type: ignore[call-overload]
    return ScorePage(total=total, scores=[score_dict(row) for row in rows])


def score_dict(row: dict[str, object]) -> dict[str, object]:
    """A stored score as the API returns it: the value back in its own type."""
    timestamp_ns = int(row["timestamp_ms"]) * _NS_PER_MS  # type: ignore[call-overload]
    return {
        sc.SCORE_ID: row["score_id"],
        sc.TRACE_ID: row["trace_id"],
        sc.SPAN_ID: row["span_id"],
        sc.SCORE_NAME: row["name"],
        sc.SCORE_DATA_TYPE: row["data_type"],
        sc.SCORE_VALUE: stored_value(str(row["data_type"]), row["numeric_value"], str(row["label"])),
        sc.SCORE_COMMENT: row["comment"],
        sc.SCORE_SOURCE: row["source"],
        sc.SCORE_TIMESTAMP: iso_from_ns(timestamp_ns),
        TIMESTAMP_UNIX_NANO: timestamp_ns,
    }


def stored_value(data_type: str, numeric: object, label: str) -> float | bool | str:
    if data_type == sc.ScoreDataType.BOOLEAN.value:
        return label == _TRUE_LABEL
    if data_type == sc.ScoreDataType.NUMERIC.value and isinstance(numeric, (int, float)):
        return float(numeric)
    return label


def score_stats(
    store: Store,
    project_id: str,
    *,
    name: str | None = None,
    source: str | None = None,
    start: TimeBound = None,
    end: TimeBound = None,
    group_by: str | None = "model",
    bucket_seconds: int | None = None,
) -> list[dict[str, object]]:
    """Per score name, group (model, provider, service, source or None) and time bucket of the
    score's timestamp: the count, the average, min and max of numbers and booleans (a boolean's
    average is its share of true), and the count per category. Ordered by bucket, name, group."""
    if group_by is not None and group_by not in GROUP_BY:
        raise ValueError(f"group_by must be one of {sorted(GROUP_BY)} or None")
    if bucket_seconds is not None and not 1 <= bucket_seconds <= 366 * 86_400:
        raise ValueError("bucket_seconds must be within 1..31622400")
    parameters = _filter_parameters(project_id, start, end, None, None, name, source)
    if bucket_seconds is not None:
        parameters["bucket_s"] = bucket_seconds
    statement = stats_statement(group_by, bucket_seconds is not None)
    merged: dict[tuple[str, str, int], _StatsCell] = {}
    for row in store.query(statement, parameters).named_results():
        key = (str(row["score_name"]), str(row["group_key"]), int(row["bucket_s"]))
        merged.setdefault(key, _StatsCell()).add(row)
    return [
        cell.as_row(name, group if group_by is not None else None, bucket if bucket_seconds else None)
        for (name, group, bucket), cell in merged.items()
    ]


@dataclass
class _StatsCell:
    """The rows of one (name, group, bucket): one per label, merged."""

    count: int = 0
    value_count: int = 0
    value_sum: float = 0.0
    value_min: float | None = None
    value_max: float | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, row: dict[str, object]) -> None:
        n = int(row["n"])  # type: ignore[call-overload]
        self.count += n
        if row["label_key"]:
            self.counts[str(row["label_key"])] = n
        values = int(row["value_count"])  # type: ignore[call-overload]
        if values:
            low, high = float(row["value_min"]), float(row["value_max"])  # type: ignore[arg-type]
            self.value_count += values
            self.value_sum += float(row["value_sum"])  # type: ignore[arg-type]
            self.value_min = low if self.value_min is None else min(self.value_min, low)
            self.value_max = high if self.value_max is None else max(self.value_max, high)

    def as_row(self, name: str, group: str | None, bucket_s: int | None) -> dict[str, object]:
        bucket_ns = bucket_s * _NS_PER_S if bucket_s is not None else None
        return {
            sc.SCORE_NAME: name,
            GROUP: group,
            BUCKET: iso_from_ns(bucket_ns) if bucket_ns is not None else None,
            BUCKET_UNIX_NANO: bucket_ns,
            COUNT: self.count,
            VALUE_COUNT: self.value_count,
            AVG: self.value_sum / self.value_count if self.value_count else None,
            MIN: self.value_min,
            MAX: self.value_max,
            COUNTS: self.counts,
        }


_SCORES_OF_TRACES: Final = """
SELECT trace_id, span_id, name, data_type, numeric_value, label, source
FROM scores FINAL
WHERE project_id = {project_id:String} AND trace_id IN {trace_ids:Array(String)}
ORDER BY timestamp, score_id
"""


def scores_by_target(
    store: Store, project_id: str, trace_ids: Sequence[str]
) -> dict[tuple[str, str], list[dict[str, object]]]:
    """The scores of these traces and their spans: (trace id, span id or "") -> [{name, value, source}]."""
    found: dict[tuple[str, str], list[dict[str, object]]] = {}
    if not trace_ids:
        return found
    parameters = {"project_id": validate_project_id(project_id), "trace_ids": sorted(set(trace_ids))}
    for row in store.query(_SCORES_OF_TRACES, parameters).named_results():
        value = stored_value(str(row["data_type"]), row["numeric_value"], str(row["label"]))
        score = {sc.SCORE_NAME: row["name"], sc.SCORE_VALUE: value, sc.SCORE_SOURCE: row["source"]}
        found.setdefault((str(row["trace_id"]), str(row["span_id"])), []).append(score)
    return found
