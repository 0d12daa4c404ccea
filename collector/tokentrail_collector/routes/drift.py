"""The drift API: `POST /api/drift` (a report), drift monitors and their results; scoped to the key's project."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from tokentrail_collector.analysis import drift_monitors
from tokentrail_collector.analysis.drift import drift_report
from tokentrail_collector.analysis.drift_scheduler import DriftScheduler
from tokentrail_collector.analysis.topic_vectors import EmbedderUnavailable, check_embedder
from tokentrail_collector.deps import ProjectDep, ServicesDep
from tokentrail_collector.models_drift import (
    DriftReport,
    DriftRequest,
    Monitor,
    MonitorCreate,
    MonitorList,
    MonitorResult,
    MonitorResults,
)

router = APIRouter(prefix="/api/drift", tags=["drift"])

MonitorId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="32 hex digits")]
NOT_FOUND = {404: {"description": "No such monitor in this project"}}


def _scheduler(request: Request) -> DriftScheduler | None:
    return getattr(request.app.state, "drift_scheduler", None)


@router.post("", response_model=DriftReport)
async def report(body: DriftRequest, project_id: ProjectDep, services: ServicesDep) -> DriftReport:
    """Compare the current window's spans to the baseline's, feature by feature."""
    try:
        return await run_in_threadpool(drift_report, services.store, project_id, body)
    except ValueError as error:  # a request the engine cannot serve, e.g. an embedder not installed
        raise HTTPException(status_code=400, detail=str(error)) from None


@router.get("/monitors", response_model=MonitorList)
async def list_monitors(project_id: ProjectDep, services: ServicesDep) -> MonitorList:
    monitors = await run_in_threadpool(drift_monitors.list_monitors, services.store, project_id)
    return MonitorList(monitors=monitors)


@router.post("/monitors", response_model=Monitor, status_code=201)
async def create_monitor(
    body: MonitorCreate, request: Request, project_id: ProjectDep, services: ServicesDep
) -> Monitor:
    try:
        check_embedder(body.topics.embedder)
    except EmbedderUnavailable as error:
        raise HTTPException(status_code=400, detail=str(error)) from None
    monitor = await run_in_threadpool(drift_monitors.create_monitor, services.store, project_id, body)
    scheduler = _scheduler(request)
    if scheduler is not None:
        scheduler.wake()  # its first evaluation is due now
    return monitor


async def _monitor_or_404(services: ServicesDep, project_id: str, monitor_id: str) -> Monitor:
    monitor = await run_in_threadpool(drift_monitors.get_monitor, services.store, project_id, monitor_id)
    if monitor is None:
        raise HTTPException(status_code=404, detail=f"drift monitor {monitor_id} not found in this project")
    return monitor


@router.get("/monitors/{monitor_id}", response_model=Monitor, responses=NOT_FOUND)
async def get_monitor(monitor_id: MonitorId, project_id: ProjectDep, services: ServicesDep) -> Monitor:
    return await _monitor_or_404(services, project_id, monitor_id)


@router.delete("/monitors/{monitor_id}", status_code=204, responses=NOT_FOUND)
async def delete_monitor(monitor_id: MonitorId, project_id: ProjectDep, services: ServicesDep) -> Response:
    deleted = await run_in_threadpool(drift_monitors.delete_monitor, services.store, project_id, monitor_id)
    if not deleted:
        raise HTTPException(status_code=404, detail=f"drift monitor {monitor_id} not found in this project")
    return Response(status_code=204)


@router.post("/monitors/{monitor_id}/run", response_model=MonitorResult, responses=NOT_FOUND)
async def run_monitor(
    monitor_id: MonitorId, request: Request, project_id: ProjectDep, services: ServicesDep
) -> MonitorResult:
    """Evaluate the monitor now (after any evaluation under way) and keep the result."""
    monitor = await _monitor_or_404(services, project_id, monitor_id)
    scheduler = _scheduler(request)
    if scheduler is not None:
        return await run_in_threadpool(scheduler.run_now, monitor)
    return await run_in_threadpool(drift_monitors.evaluate_monitor, services.store, monitor)


@router.get("/monitors/{monitor_id}/results", response_model=MonitorResults, responses=NOT_FOUND)
async def monitor_results(
    monitor_id: MonitorId,
    project_id: ProjectDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=drift_monitors.MAX_RESULTS)] = 100,
    since: Annotated[
        datetime | None, Query(description="Only results evaluated at or after this time.")
    ] = None,
    include_reports: Annotated[bool, Query(description="Include each full report (large).")] = False,
) -> MonitorResults:
    """The monitor's results, newest first: drift over time."""
    await _monitor_or_404(services, project_id, monitor_id)
    results = await run_in_threadpool(
        drift_monitors.monitor_results,
        services.store,
        project_id,
        monitor_id,
        limit=limit,
        since=since,
        with_reports=include_reports,
    )
    return MonitorResults(monitor_id=monitor_id, results=results)
