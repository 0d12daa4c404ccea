"""Storage side of tail sampling (migration 0010): held spans, the kept-trace markers, promotion.

The policy (which trace is kept, and why) is `tokentrail_collector.sampling`; this module only
names the tables and runs the statements, every value a bound parameter.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Final

from tokentrail.semconv import CANONICAL_COLUMNS
from tokentrail_collector.storage import sampling_sql

if TYPE_CHECKING:
    from tokentrail_collector.storage.store import Store

SAMPLE_WEIGHT: Final = "sample_weight"
HELD_UNTIL: Final = "held_until"

# Write targets of the group-commit writer (storage.store.TABLE_COLUMNS).
HELD_SPANS_TABLE: Final = "held_spans"
SAMPLING_KEPT_TABLE: Final = "sampling_kept"
SAMPLED_AWAY_TABLE: Final = "sampled_away"
# Not a table of its own: span rows with their weight, inserted into `spans` (store.INSERT_TABLE).
WEIGHTED_SPANS: Final = "spans+sample_weight"

WEIGHTED_SPAN_COLUMNS: Final = (*CANONICAL_COLUMNS, SAMPLE_WEIGHT)
HELD_SPAN_COLUMNS: Final = (*CANONICAL_COLUMNS, HELD_UNTIL)
SAMPLING_KEPT_COLUMNS: Final = ("project_id", "trace_id", "reason", "kept_until")
SAMPLED_AWAY_COLUMNS: Final = (
    "project_id", "hour", "service_name", "model", "spans", "traces", "input_tokens", "output_tokens",
)  # fmt: skip

_COLUMN_LIST: Final = ", ".join(CANONICAL_COLUMNS)
# The held spans of these traces not promoted yet.
_HELD_OF_TRACES: Final = (
    " FROM held_spans FINAL"
    " WHERE project_id = {project_id:String} AND trace_id IN {trace_ids:Array(String)}"
    " AND held_until > now64(3) AND promoted = 0"
)

# Of these traces, those a rule kept within the hold window (on any replica). No FINAL: any
# unexpired mark will do, and this runs for every request.
KEPT_TRACES: Final = (
    "SELECT DISTINCT trace_id FROM sampling_kept"
    " WHERE project_id = {project_id:String} AND trace_id IN {trace_ids:Array(String)}"
    " AND kept_until > now64(3)"
)

# Of these traces, those with held spans not promoted yet, and how many: promotion runs only for them.
HELD_TRACES: Final = "SELECT trace_id, count()" + _HELD_OF_TRACES + " GROUP BY trace_id"

# Held spans about to be promoted leave the sampled-away ledger (negative rows sum them out).
UNCOUNT_HELD: Final = (
    "INSERT INTO sampled_away (" + ", ".join(SAMPLED_AWAY_COLUMNS) + ")"
    " SELECT project_id, toStartOfHour(start_time) AS hour, service_name,"
    " if(request_model != '', request_model, response_model) AS model,"
    " -count(), -countIf(parent_span_id = ''),"
    " -toInt64(sum(ifNull(input_tokens, 0))), -toInt64(sum(ifNull(output_tokens, 0)))"
    + _HELD_OF_TRACES
    + " GROUP BY project_id, hour, service_name, model"
)

# Held spans of traces kept after all: into spans, with weight 1 (their trace is now always kept).
PROMOTE_HELD: Final = (
    "INSERT INTO spans (" + _COLUMN_LIST + ", sample_weight) SELECT " + _COLUMN_LIST + ", 1" + _HELD_OF_TRACES
)

# Promoted held spans written again with promoted = 1 and a newer version, which wins in FINAL.
MARK_PROMOTED: Final = (
    "INSERT INTO held_spans SELECT * REPLACE (1 AS promoted, now64(3) AS ingested_at)"
    " FROM (SELECT * FROM held_spans FINAL"
    " WHERE project_id = {project_id:String} AND trace_id IN {trace_ids:Array(String)}"
    " AND held_until > now64(3) AND promoted = 0)"
)

# Spans already stored with weight 1/rate (the trace's hash kept them) of traces a rule kept
# later: written again with weight 1 and a newer version, which wins in the replacing engine, so
# a trace kept by a rule weighs 1 throughout. Only spans from within the hold window, like held ones.
REWEIGHT_KEPT: Final = (
    "INSERT INTO spans SELECT * REPLACE (1 AS sample_weight, now64(3) AS ingested_at)"
    " FROM (SELECT * FROM spans FINAL"  # a subquery: in its own WHERE the names are the stored columns
    " WHERE project_id = {project_id:String} AND trace_id IN {trace_ids:Array(String)}"
    " AND sample_weight != 1 AND ingested_at > now64(3) - toIntervalSecond({hold_s:UInt32}))"
)


def kept_traces(store: Store, project_id: str, trace_ids: Sequence[str]) -> dict[str, int]:
    """Those of `trace_ids` that a rule or a low score kept within the hold window (each -> 1)."""
    if not trace_ids:
        return {}
    result = store.query(KEPT_TRACES, {"project_id": project_id, "trace_ids": list(trace_ids)})
    return {str(row[0]): 1 for row in result.result_rows}


def held_traces(store: Store, project_id: str, trace_ids: Sequence[str]) -> dict[str, int]:
    """Those of `trace_ids` with spans held, and how many."""
    if not trace_ids:
        return {}
    result = store.query(HELD_TRACES, {"project_id": project_id, "trace_ids": list(trace_ids)})
    return {str(trace_id): int(count) for trace_id, count in result.result_rows}


def promote_held(store: Store, project_id: str, trace_ids: Sequence[str]) -> None:
    """Copy the held spans of `trace_ids` into spans (weight 1), take them out of the sampled-away
    ledger and mark them promoted. In this order: a failure part way leaves them unmarked, and the
    retry promotes them again (spans collapse the copy; only the ledger can be off by them)."""
    if trace_ids:
        parameters = {"project_id": project_id, "trace_ids": list(trace_ids)}
        store.command(PROMOTE_HELD, parameters)
        store.command(UNCOUNT_HELD, parameters)
        store.command(MARK_PROMOTED, parameters)


def reweight_kept(store: Store, project_id: str, trace_ids: Sequence[str], *, hold_s: int) -> None:
    """Give weight 1 to the stored spans of `trace_ids` that the trace hash kept with 1/rate."""
    if trace_ids:
        store.command(
            REWEIGHT_KEPT, {"project_id": project_id, "trace_ids": list(trace_ids), "hold_s": hold_s}
        )


# --- scaled stats (storage/sampling_sql.py) ----------------------------------------------------

_ESTIMATES: Final = (
    "estimated_span_count", "estimated_error_count", "estimated_input_tokens", "estimated_output_tokens",
    "estimated_total_tokens", "estimated_cost_usd",
)  # fmt: skip
_LATENCY: Final = ("estimated_latency_p50_ms", "estimated_latency_p95_ms", "estimated_latency_p99_ms")


def add_estimates(
    store: Store,
    rows: list[dict[str, object]],
    *,
    group_by: str | None,
    bucketed: bool,
    filters: frozenset[str],
    parameters: Mapping[str, object],
) -> None:
    """Put the scaled figures, and the sampled-away ledger's where it has the grouping, into the
    plain stats rows of the same group and bucket (in place), for `estimates` to report."""
    statement = sampling_sql.scaled_stats(group_by, bucketed, filters)
    scaled = {_key(row): row for row in store.query(statement, parameters).named_results()}
    away: dict[tuple[object, object], dict[str, object]] | None = None
    if group_by is None or group_by in sampling_sql.AWAY_GROUPS:
        statement = sampling_sql.sampled_away(group_by, bucketed, filters)
        away = {_key(row): row for row in store.query(statement, parameters).named_results()}
    for row in rows:
        row["estimates"] = scaled.get(_key(row))
        row["sampled_away"] = None if away is None else away.get(_key(row), _NOTHING_AWAY)


_NOTHING_AWAY: Final = {"sampled_away_spans": 0, "sampled_away_traces": 0}


def _key(row: Mapping[str, object]) -> tuple[object, object]:
    return row["group_key"], row["bucket_s"]


def estimates(row: Mapping[str, object]) -> dict[str, object]:
    """The estimated fields of a stats row; none when the scaled figures were not asked for."""
    scaled = row.get("estimates")
    if not isinstance(scaled, Mapping):
        return {}
    figures: dict[str, object] = {name: scaled[name] for name in _ESTIMATES}
    latency = scaled["estimated_latency_ms"]
    for index, name in enumerate(_LATENCY):
        value = latency[index] if isinstance(latency, (list, tuple)) and index < len(latency) else None
        figures[name] = None if value is None or math.isnan(value) else float(value)
    ledger = row.get("sampled_away")
    for name in ("sampled_away_spans", "sampled_away_traces"):
        figures[name] = ledger[name] if isinstance(ledger, Mapping) else None
    return figures
