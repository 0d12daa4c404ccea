"""OTLP/HTTP ingest: `POST /v1/traces`, answered as the OTLP/HTTP spec says, and only after the commit."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from tokentrail_collector.deps import ProjectDep, ServicesDep
from tokentrail_collector.normalise import normalise_traces
from tokentrail_collector.otlp import (
    OtlpError,
    decode_trace_request,
    encode_error_status,
    encode_export_response,
)

router = APIRouter(tags=["otlp"])

PROTOBUF = "application/x-protobuf"


@router.post(
    "/v1/traces",
    summary="OTLP/HTTP trace export (protobuf or JSON, optionally gzip)",
    responses={
        200: {
            "description": "Committed (ExportTraceServiceResponse, partial_success when spans were rejected)"
        },
        400: {"description": "Undecodable body, or every span invalid"},
        401: {"description": "Missing, unknown or revoked API key"},
        413: {"description": "Body over the limit (checked after decompression)"},
        415: {"description": "Unsupported content type or encoding"},
        429: {"description": "Collector behind; retry after Retry-After"},
        503: {"description": "Store unavailable; retry after Retry-After"},
    },
)
async def export_traces(request: Request, project_id: ProjectDep, services: ServicesDep) -> Response:
    content_type = request.headers.get("content-type", "")
    reply_type = content_type if "json" in content_type.lower() else PROTOBUF
    try:
        body = await read_body(request, services.settings.max_body_bytes)
        export_request = await run_in_threadpool(
            decode_trace_request,
            body,
            content_type=content_type,
            content_encoding=request.headers.get("content-encoding"),
            max_body_bytes=services.settings.max_body_bytes,
        )
    except OtlpError as exc:
        payload, media_type = encode_error_status(exc.message, reply_type, exc.status_code)
        return Response(payload, status_code=exc.status_code, media_type=media_type)

    batch = await run_in_threadpool(normalise_traces, export_request, project_id=project_id)
    if batch.rejected and not batch.rows:
        message = "every span was invalid: " + "; ".join(batch.errors)
        payload, media_type = encode_error_status(message, reply_type, 400)
        return Response(payload, status_code=400, media_type=media_type)
    if batch.rows:
        await services.writer.submit(batch.rows)
    payload, media_type = encode_export_response(
        content_type=reply_type, rejected_spans=batch.rejected, error_message="; ".join(batch.errors)
    )
    return Response(payload, status_code=200, media_type=media_type)


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it passes `limit` (compressed bodies are checked again later)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise OtlpError(413, f"body of {declared} bytes is over the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise OtlpError(413, f"body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
