"""`GET /metrics`: the collector's own telemetry in Prometheus text format.

Open without a key, like most Prometheus endpoints: it holds counts by signal, reason, route and
status class only, never a project, key or payload value. `TOKENTRAIL_METRICS=false` removes it.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from tokentrail_collector.deps import ServicesDep
from tokentrail_collector.telemetry import CONTENT_TYPE

router = APIRouter(tags=["telemetry"])


@router.get("/metrics", response_class=Response, summary="Collector telemetry (Prometheus text format)")
async def prometheus_metrics(services: ServicesDep) -> Response:
    text = services.telemetry.render(services.writer.stats())
    return Response(text, media_type=CONTENT_TYPE)
