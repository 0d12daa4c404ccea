"""`GET /api/gpu`: the GPU gauges the SDK sends, as bucketed time series per device, project scoped."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from tokentrail_collector.deps import ProjectDep, ServicesDep
from tokentrail_collector.models import GpuSeries
from tokentrail_collector.routes.query import End, Service, Start, check_window
from tokentrail_collector.storage import gpu

router = APIRouter(prefix="/api", tags=["query"])


@router.get("/gpu", response_model=GpuSeries)
async def gpu_series(
    project_id: ProjectDep,
    services: ServicesDep,
    start: Start = None,
    end: End = None,
    service: Service = None,
    device: Annotated[str | None, Query(max_length=256, description="NVML index or UUID of a GPU.")] = None,
    bucket_seconds: Annotated[
        int, Query(ge=1, le=gpu.MAX_BUCKET_SECONDS, description="Time bucket width.")
    ] = gpu.DEFAULT_BUCKET_SECONDS,
) -> GpuSeries:
    check_window(start, end)
    devices = await run_in_threadpool(
        gpu.gpu_series,
        services.store,
        project_id,
        start=start,
        end=end,
        service=service,
        device=device,
        bucket_seconds=bucket_seconds,
    )
    return GpuSeries(bucket_seconds=bucket_seconds, devices=devices)
