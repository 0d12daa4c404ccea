"""Drift monitors: stored drift checks per project, their evaluation, and the results kept over time.

A monitor is a drift request (usually with relative windows, such as the last 24 h against the
7 days before) plus a name and an interval. Evaluating one runs the report at that moment and
keeps a result row (overall status, each feature's status and PSI, the report as JSON), also
when the evaluation fails (status `error` and the message), so that the scheduler does not retry
a broken monitor in a loop and the history shows the failure.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Final

from tokentrail_collector.analysis import drift_sql as dsql
from tokentrail_collector.analysis.drift import drift_report
from tokentrail_collector.models_drift import (
    MONITOR_ERROR_STATUS,
    DriftReport,
    DriftRequest,
    Monitor,
    MonitorCreate,
    MonitorResult,
)
from tokentrail_collector.storage import Store, StoreUnavailable
from tokentrail_collector.storage.validation import validate_project_id

logger = logging.getLogger(__name__)

MAX_RESULTS: Final = 1000
_MONITOR_ONLY_FIELDS: Final = frozenset({"name", "interval_s"})


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _to_ms(moment: datetime) -> datetime:
    """`moment` at the millisecond precision the tables keep, so that what is returned is what is stored."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def scheduled_time(monitor: Monitor, now: datetime) -> datetime:
    """The start of the monitor's interval that holds `now` (intervals counted from the Unix epoch):
    the moment a scheduled evaluation is made for. Every collector on one store picks the same
    moment, so the results of a monitor evaluated by several of them collapse into one row (the
    results table keys on it), and the report's relative windows end on the same boundary."""
    epoch_s = int(now.timestamp())
    return datetime.fromtimestamp(epoch_s - epoch_s % monitor.interval_s, tz=timezone.utc)


def _spec_json(monitor: MonitorCreate) -> str:
    return monitor.model_dump_json(exclude=set(_MONITOR_ONLY_FIELDS))


def _monitor(row: dict[str, object], last: dict[str, tuple[datetime, str]]) -> Monitor:
    spec = json.loads(str(row["spec"]))
    monitor_id = str(row["monitor_id"])
    evaluated = last.get(monitor_id)
    return Monitor.model_validate({
        **spec,
        "name": row["name"],
        "interval_s": row["interval_s"],
        "monitor_id": monitor_id,
        "project_id": row["project_id"],
        "created_at": row["created_at"],
        "last_evaluated_at": evaluated[0] if evaluated else None,
        "last_status": evaluated[1] if evaluated else None,
    })  # fmt: skip


def _last_evaluations(store: Store, project_id: str | None) -> dict[str, tuple[datetime, str]]:
    if project_id is None:
        rows = store.query(dsql.LAST_EVALUATIONS).named_results()
    else:
        rows = store.query(dsql.LAST_EVALUATIONS_OF_PROJECT, {"project_id": project_id}).named_results()
    return {str(row["monitor_id"]): (row["last_evaluated_at"], str(row["last_status"])) for row in rows}


def create_monitor(
    store: Store, project_id: str, spec: MonitorCreate, *, now: datetime | None = None
) -> Monitor:
    project_id = validate_project_id(project_id)
    monitor_id = uuid.uuid4().hex
    created = _to_ms(now or _utc_now())
    _write(store, project_id, monitor_id, spec, created, deleted=False)
    return Monitor.model_validate({
        **spec.model_dump(), "monitor_id": monitor_id, "project_id": project_id, "created_at": created,
    })  # fmt: skip


def _write(
    store: Store, project_id: str, monitor_id: str, spec: MonitorCreate, created: datetime, *, deleted: bool
) -> None:
    row = (
        project_id,
        monitor_id,
        spec.name,
        _spec_json(spec),
        spec.interval_s,
        created,
        deleted,
        time.time_ns(),
    )
    store.insert_rows(dsql.MONITORS_TABLE, dsql.MONITOR_COLUMNS, [row])


def list_monitors(store: Store, project_id: str) -> list[Monitor]:
    project_id = validate_project_id(project_id)
    last = _last_evaluations(store, project_id)
    rows = store.query(dsql.MONITORS_OF_PROJECT, {"project_id": project_id}).named_results()
    return [_monitor(row, last) for row in rows]


def get_monitor(store: Store, project_id: str, monitor_id: str) -> Monitor | None:
    project_id = validate_project_id(project_id)
    rows = list(
        store.query(dsql.MONITOR_BY_ID, {"project_id": project_id, "monitor_id": monitor_id}).named_results()
    )
    if not rows:
        return None
    return _monitor(rows[0], _last_evaluations(store, project_id))


def delete_monitor(store: Store, project_id: str, monitor_id: str) -> bool:
    """Delete a monitor (its results stay in the store); False when there is no such monitor."""
    monitor = get_monitor(store, project_id, monitor_id)
    if monitor is None:
        return False
    spec = MonitorCreate.model_validate(monitor.model_dump(include=set(MonitorCreate.model_fields)))
    _write(store, monitor.project_id, monitor_id, spec, monitor.created_at, deleted=True)
    return True


def evaluate_monitor(store: Store, monitor: Monitor, *, now: datetime | None = None) -> MonitorResult:
    """Run the monitor's report now and keep the result (an `error` result when the report fails)."""
    evaluated_at = _to_ms(now or _utc_now())
    request = DriftRequest.model_validate(monitor.model_dump(include=set(DriftRequest.model_fields)))
    report: DriftReport | None = None
    error = ""
    try:
        report = drift_report(store, monitor.project_id, request, now=evaluated_at)
    except StoreUnavailable:
        raise
    except Exception as exc:  # a broken monitor is recorded as such, and the scheduler goes on
        logger.warning("drift monitor %s failed: %s", monitor.monitor_id, exc, exc_info=True)
        error = f"{type(exc).__name__}: {exc}"
    result = MonitorResult(
        monitor_id=monitor.monitor_id,
        evaluated_at=evaluated_at,
        status=report.status.value if report else MONITOR_ERROR_STATUS,
        error=error,
        feature_status={f.feature.value: f.status.value for f in report.features} if report else {},
        feature_psi={f.feature.value: f.psi for f in report.features if f.psi is not None} if report else {},
        report=report,
    )
    row = (
        monitor.project_id,
        monitor.monitor_id,
        evaluated_at,
        result.status,
        error,
        result.feature_status,
        result.feature_psi,
        stored_report(report) if report else "",
    )
    store.insert_rows(dsql.RESULTS_TABLE, dsql.RESULT_COLUMNS, [row])
    return result


# Ids a stored cluster keeps: a monitor evaluates hourly or so, and a fresh report lists them all.
STORED_CLUSTER_IDS: Final = 100


def stored_report(report: DriftReport) -> str:
    """The report as a monitor's history keeps it: each topic cluster's id lists cut to
    STORED_CLUSTER_IDS, so that results stay small however many spans a cluster lists."""
    document = report.model_dump(mode="json")
    for feature in document["features"]:
        for cluster in (feature.get("topics") or {}).get("clusters") or []:
            cluster["trace_ids"] = cluster["trace_ids"][:STORED_CLUSTER_IDS]
            cluster["span_ids"] = cluster["span_ids"][:STORED_CLUSTER_IDS]
    return json.dumps(document, separators=(",", ":"))


def monitor_results(
    store: Store,
    project_id: str,
    monitor_id: str,
    *,
    limit: int = 100,
    since: datetime | None = None,
    with_reports: bool = False,
) -> list[MonitorResult]:
    """The monitor's results, newest first."""
    if not 1 <= limit <= MAX_RESULTS:
        raise ValueError(f"limit must be within 1..{MAX_RESULTS}")
    since_ms = 0 if since is None else int(since.timestamp() * 1000)
    rows = store.query(
        dsql.RESULTS_OF_MONITOR,
        {
            "project_id": validate_project_id(project_id),
            "monitor_id": monitor_id,
            "since_ms": since_ms,
            "limit": limit,
            "with_report": with_reports,
        },
    ).named_results()
    return [
        MonitorResult(
            monitor_id=str(row["monitor_id"]),
            evaluated_at=row["evaluated_at"],
            status=str(row["status"]),
            error=str(row["error"]),
            feature_status=dict(row["feature_status"]),
            feature_psi=dict(row["feature_psi"]),
            report=DriftReport.model_validate_json(row["report"]) if row["report"] else None,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class DueMonitors:
    due: list[Monitor]
    next_due_in_s: float | None  # until the next monitor not due now is; None when there is none


def due_monitors(store: Store, now: datetime) -> DueMonitors:
    """The monitors of every project whose interval has passed since their last evaluation."""
    last = _last_evaluations(store, None)
    due: list[Monitor] = []
    waits: list[float] = []
    for row in store.query(dsql.MONITORS_ALL).named_results():
        monitor = _monitor(row, last)
        if monitor.last_evaluated_at is None:
            due.append(monitor)
            continue
        wait = (monitor.last_evaluated_at + timedelta(seconds=monitor.interval_s) - now).total_seconds()
        if wait <= 0:
            due.append(monitor)
        else:
            waits.append(wait)
    return DueMonitors(due=due, next_due_in_s=min(waits) if waits else None)
