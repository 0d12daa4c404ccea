"""Retention administration, admin token only: a project's retention, and a pass on demand.

Admin rather than project-key scoped: what a collector deletes, and for how long it keeps
prompts, is the operator's decision, like the default (`TOKENTRAIL_RETENTION_DAYS`).
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from tokentrail_collector.deps import AdminDep
from tokentrail_collector.models_retention import (
    ProjectRetentionOut,
    RetentionIn,
    RetentionOverviewOut,
    RetentionPassOut,
)
from tokentrail_collector.retention_task import RetentionTask
from tokentrail_collector.storage.retention import UnknownProject

router = APIRouter(prefix="/api/admin", tags=["admin"])


def _task(request: Request) -> RetentionTask:
    return request.app.state.retention


@router.get("/retention", response_model=RetentionOverviewOut)
async def retention_overview(_: AdminDep, request: Request) -> RetentionOverviewOut:
    task = _task(request)
    overrides = await run_in_threadpool(task.settings.overrides)
    return RetentionOverviewOut(
        default_days=task.settings.default_days,
        interval_s=task.interval_s,
        projects=[ProjectRetentionOut.of(item) for item in overrides],
        last_pass=RetentionPassOut.of(task.last_pass) if task.last_pass is not None else None,
    )


@router.post("/retention/run", response_model=RetentionPassOut)
async def run_retention(_: AdminDep, request: Request) -> RetentionPassOut:
    """Run a retention pass now (it also runs on its own every TOKENTRAIL_RETENTION_INTERVAL_S)."""
    return RetentionPassOut.of(await run_in_threadpool(_task(request).run_now))


@router.get("/projects/{project_id}/retention", response_model=ProjectRetentionOut)
async def get_retention(project_id: str, _: AdminDep, request: Request) -> ProjectRetentionOut:
    try:
        return ProjectRetentionOut.of(await run_in_threadpool(_task(request).settings.get, project_id))
    except UnknownProject as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc


@router.put("/projects/{project_id}/retention", response_model=ProjectRetentionOut)
async def set_retention(
    project_id: str, body: RetentionIn, _: AdminDep, request: Request
) -> ProjectRetentionOut:
    """Set the project's retention; rows already stored are pruned by the next pass."""
    task = _task(request)
    try:
        result = await run_in_threadpool(task.settings.set, project_id, body.days)
    except UnknownProject as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    return ProjectRetentionOut.of(result)


@router.delete("/projects/{project_id}/retention", response_model=ProjectRetentionOut)
async def reset_retention(project_id: str, _: AdminDep, request: Request) -> ProjectRetentionOut:
    """Back to the collector's default."""
    task = _task(request)
    try:
        result = await run_in_threadpool(task.settings.reset, project_id)
    except UnknownProject as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    return ProjectRetentionOut.of(result)
