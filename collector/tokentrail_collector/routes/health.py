"""Liveness and store reachability; the one endpoint that needs no key."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from tokentrail_collector.deps import ServicesDep
from tokentrail_collector.models import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
async def healthz(services: ServicesDep) -> JSONResponse:
    reachable = await run_in_threadpool(services.store.ping)
    health = Health(
        status="ok" if reachable else "degraded",
        store="chdb" if services.store.embedded else "clickhouse",
        store_reachable=reachable,
    )
    return JSONResponse(health.model_dump(), status_code=200 if reachable else 503)
