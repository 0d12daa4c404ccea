"""The query API (`/api/traces`, `/api/traces/{id}`, `/api/stats`): every query scoped to the key's project."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from starlette.concurrency import run_in_threadpool

from tokentrail_collector.deps import ProjectDep, ServicesDep
from tokentrail_collector.models import StatsResponse, TraceDetail, TraceList
from tokentrail_collector.storage import queries

router = APIRouter(prefix="/api", tags=["query"])

TRACE_ID_PATTERN = r"^[0-9a-fA-F]{32}$"
Start = Annotated[
    datetime | None, Query(description="Inclusive lower bound of span start (ISO 8601 or epoch seconds).")
]
End = Annotated[
    datetime | None, Query(description="Exclusive upper bound of span start (ISO 8601 or epoch seconds).")
]
Service = Annotated[str | None, Query(max_length=256)]
Model = Annotated[str | None, Query(max_length=256, description="Request or response model.")]


def check_window(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and end <= start:
        raise HTTPException(status_code=400, detail="'end' must be after 'start'")


@router.get("/traces", response_model=TraceList)
async def list_traces(
    project_id: ProjectDep,
    services: ServicesDep,
    start: Start = None,
    end: End = None,
    service: Service = None,
    model: Model = None,
    status: Annotated[
        Literal["ok", "error"] | None, Query(description="error: a span failed; ok: none did.")
    ] = None,
    search: Annotated[
        str | None, Query(max_length=1000, description="Case-insensitive text in name, input or output.")
    ] = None,
    score_name: Annotated[
        str | None, Query(max_length=200, description="Traces with a score of this name (trace or span).")
    ] = None,
    score_value: Annotated[
        str | None, Query(max_length=1000, description="With score_name: its category, or true/false.")
    ] = None,
    score_min: Annotated[
        float | None, Query(allow_inf_nan=False, description="With score_name: value >= this.")
    ] = None,
    score_max: Annotated[
        float | None, Query(allow_inf_nan=False, description="With score_name: value <= this.")
    ] = None,
    min_duration_ms: Annotated[
        float | None, Query(ge=0, allow_inf_nan=False, description="Traces lasting at least this long.")
    ] = None,
    min_cost_usd: Annotated[
        float | None, Query(ge=0, allow_inf_nan=False, description="Traces costing at least this much.")
    ] = None,
    tag: Annotated[
        str | None, Query(max_length=256, description="Traces with a span carrying this tag.")
    ] = None,
    sort: Annotated[
        Literal["newest", "cost", "duration"],
        Query(description="newest first, or the largest cost or duration."),
    ] = "newest",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> TraceList:
    check_window(start, end)
    if not score_name and (score_value is not None or score_min is not None or score_max is not None):
        raise HTTPException(status_code=400, detail="score_value, score_min and score_max need score_name")
    page = await run_in_threadpool(
        queries.list_traces,
        services.store,
        project_id,
        start=start,
        end=end,
        service=service,
        model=model,
        status=status,
        search=search,
        score_name=score_name,
        score_value=score_value,
        score_min=score_min,
        score_max=score_max,
        min_duration_ms=min_duration_ms,
        min_cost_usd=min_cost_usd,
        tag=tag,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    return TraceList(total=page.total, limit=limit, offset=offset, traces=page.traces)


@router.get(
    "/traces/{trace_id}", response_model=TraceDetail, responses={404: {"description": "No such trace"}}
)
async def get_trace(
    trace_id: Annotated[str, Path(pattern=TRACE_ID_PATTERN, description="32 hex digits")],
    project_id: ProjectDep,
    services: ServicesDep,
) -> TraceDetail:
    trace_id = trace_id.lower()
    spans = await run_in_threadpool(queries.get_trace, services.store, project_id, trace_id)
    if not spans:
        raise HTTPException(status_code=404, detail=f"trace {trace_id} not found in this project")
    return TraceDetail(trace_id=trace_id, spans=spans)


@router.get("/stats", response_model=StatsResponse)
async def stats(
    project_id: ProjectDep,
    services: ServicesDep,
    start: Start = None,
    end: End = None,
    group_by: Annotated[
        Literal["model", "provider", "service", "error_type", "none"],
        Query(description="Field to group by; none for totals."),
    ] = "model",
    bucket_seconds: Annotated[
        int | None, Query(ge=1, le=366 * 86400, description="Time bucket width.")
    ] = None,
    service: Service = None,
    model: Model = None,
    scaled: Annotated[
        bool,
        Query(
            description="Also estimate what was emitted when tail sampling is on (estimated_* "
            "fields): each stored span weighted by 1/rate when only the sampling rate kept it."
        ),
    ] = False,
) -> StatsResponse:
    check_window(start, end)
    grouping = None if group_by == "none" else group_by
    rows = await run_in_threadpool(
        queries.stats,
        services.store,
        project_id,
        start=start,
        end=end,
        group_by=grouping,
        bucket_seconds=bucket_seconds,
        service=service,
        model=model,
        scaled=scaled,
    )
    return StatsResponse(group_by=grouping, bucket_seconds=bucket_seconds, rows=rows)
