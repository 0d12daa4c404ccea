"""OTLP/HTTP ingest: `POST /v1/traces`, `/v1/logs` and `/v1/metrics`, answered as the OTLP/HTTP
spec says, and only after the commit.

The three share one shape (`export`): read the body, decode, normalise, hand the rows to the
group-commit writer for the signal's table, reply in the request's encoding with the count of
rejected items as partial success. What differs per signal is an `OtlpSignal`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, Protocol

from fastapi import APIRouter, Request, Response
from google.protobuf.message import Message

from tokentrail_collector.deps import ProjectDep, Services, ServicesDep, error_reply
from tokentrail_collector.normalise import NormalisedBatch, normalise_traces
from tokentrail_collector.normalise.logs import LogsBatch, normalise_logs
from tokentrail_collector.normalise.metrics import MetricsBatch, normalise_metrics
from tokentrail_collector.otlp import (
    OtlpError,
    decode_logs_request,
    decode_metrics_request,
    decode_trace_request,
    encode_export_response,
)
from tokentrail_collector.otlp._body import Encoding, decompress, parse_content_type
from tokentrail_collector.storage import sql
from tokentrail_collector.telemetry import refusal_reason

router = APIRouter(tags=["otlp"])

SignalName = Literal["traces", "logs", "metrics"]


class Batch(Protocol):
    """What every normaliser returns: rows for the table, and the rejected items with reasons."""

    rows: list[dict[str, object]]
    rejected: int
    errors: list[str]
    truncated: int  # values cut or attributes dropped to fit the caps (the item kept)
    refused_keys: int  # attributes dropped for a refused key


@dataclass(frozen=True, slots=True)
class OtlpSignal:
    """What differs between the OTLP endpoints."""

    signal: SignalName
    items: str  # what the request carries, in messages: "span", "log record", "data point"
    table: str
    decode: Callable[..., Message | bytes]
    normalise: Callable[..., Batch]
    summary: str
    # A note for partial success about items kept nowhere by design; takes the signal's own batch.
    warning: Callable[[Any], str] = lambda batch: ""


def _logs_note(batch: LogsBatch) -> str:
    # Plain application logs are not GenAI content: kept nowhere, by design, and said so.
    skipped = (
        f"{batch.skipped} log record(s) are not GenAI events (gen_ai.*) and were not stored"
        if batch.skipped
        else ""
    )
    return "; ".join(note for note in (skipped, batch.limits_note()) if note)


def decode_traces(
    body: bytes, *, content_type: str | None, content_encoding: str | None, max_body_bytes: int
) -> bytes:
    """The protobuf encoding of a valid trace export request, which is what `normalise_traces`
    reads fastest: a protobuf body as sent (once decompressed), checked by decoding it; a JSON
    body decoded and encoded. Raises OtlpError as `decode_trace_request` does."""
    protobuf = parse_content_type(content_type) is Encoding.PROTOBUF
    data = decompress(body, content_encoding, max_body_bytes=max_body_bytes) if protobuf else body
    request = decode_trace_request(
        data,
        content_type=content_type,
        content_encoding=None if protobuf else content_encoding,
        max_body_bytes=max_body_bytes,
    )
    return data if protobuf else request.SerializeToString()


TRACES = OtlpSignal(
    "traces", "span", sql.SPANS_TABLE, decode_traces, normalise_traces,
    summary="OTLP/HTTP trace export (protobuf or JSON, optionally gzip)",
    warning=NormalisedBatch.limits_note,  # what the caps on attributes, values and events cut
)  # fmt: skip
LOGS = OtlpSignal(
    "logs", "log record", sql.SPAN_CONTENT_TABLE, decode_logs_request, normalise_logs,
    summary="OTLP/HTTP log export: GenAI content events, kept per span (protobuf or JSON, optionally gzip)",
    warning=_logs_note,
)  # fmt: skip
METRICS = OtlpSignal(
    "metrics", "data point", sql.GPU_METRICS_TABLE, decode_metrics_request, normalise_metrics,
    summary="OTLP/HTTP metric export: GPU gauges and other gauge or sum points (protobuf or JSON, optionally gzip)",
    warning=MetricsBatch.limits_note,
)  # fmt: skip


def _responses(signal: OtlpSignal) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "description": f"Committed (the {signal.signal} export response, partial_success "
            f"when {signal.items}s were rejected)"
        },
        400: {"description": f"Undecodable body, or every {signal.items} invalid"},
        401: {"description": "Missing, unknown or revoked API key"},
        413: {"description": "Body over the limit (checked after decompression)"},
        415: {"description": "Unsupported content type or encoding"},
        429: {"description": "Collector behind; retry after Retry-After"},
        503: {"description": "Store unavailable; retry after Retry-After"},
    }


def _add_route(signal: OtlpSignal) -> None:
    """`POST /v1/<signal>`, answered by `export`."""

    async def endpoint(request: Request, project_id: ProjectDep, services: ServicesDep) -> Response:
        return await export(signal, request, project_id, services)

    endpoint.__name__ = f"export_{signal.signal}"  # the OpenAPI operation id
    router.add_api_route(
        f"/v1/{signal.signal}",
        endpoint,
        methods=["POST"],
        summary=signal.summary,
        responses=_responses(signal),
    )


for _signal in (TRACES, LOGS, METRICS):
    _add_route(_signal)


async def export(signal: OtlpSignal, request: Request, project_id: str, services: Services) -> Response:
    """Decode → normalise → commit → reply, for any signal."""
    content_type = request.headers.get("content-type", "")
    try:
        body = await read_body(request, services.settings.max_body_bytes)
        export_request = await _in_normaliser(
            signal.decode,
            body,
            content_type=content_type,
            content_encoding=request.headers.get("content-encoding"),
            max_body_bytes=services.settings.max_body_bytes,
        )
    except OtlpError as exc:
        services.telemetry.refused_request(signal.signal, refusal_reason(exc.status_code))
        return error_reply(request, exc.status_code, exc.message)

    batch = await _in_normaliser(signal.normalise, export_request, project_id=project_id)
    telemetry = services.telemetry
    skipped = getattr(batch, "skipped", 0)  # logs and metrics only: items kept nowhere by design
    telemetry.received(signal.signal, len(batch.rows) + batch.rejected + skipped)
    telemetry.rejected(signal.signal, "invalid", batch.rejected)
    telemetry.rejected(signal.signal, "skipped", skipped)
    telemetry.cut(signal.signal, "truncated", batch.truncated)
    telemetry.cut(signal.signal, "refused_key", batch.refused_keys)
    if batch.rejected and not batch.rows:
        message = f"every {signal.items} was invalid: " + "; ".join(batch.errors)
        return error_reply(request, 400, message)
    if batch.rows:
        with telemetry.committing(signal.signal, len(batch.rows)):
            if signal is TRACES and services.sampler is not None:
                await services.sampler.commit(batch.rows, project_id)
            else:
                await services.writer.submit(batch.rows, table=signal.table)
    notes = [*batch.errors, signal.warning(batch)]
    payload, media_type = encode_export_response(
        content_type=content_type,
        rejected_spans=batch.rejected,
        error_message="; ".join(note for note in notes if note),
        signal=signal.signal,
    )
    return Response(payload, status_code=200, media_type=media_type)


# Decoding and normalising hold the GIL. Run one request's at a time, in arrival order, rather than
# many interleaved in the shared thread pool: there, concurrent requests all finish together and
# late, and the writer commits in lockstep with them; here they finish one by one, and each commit
# (chDB releases the GIL) runs beside the normalising of the next requests.
_NORMALISER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tokentrail-normalise")


async def _in_normaliser(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return await asyncio.get_running_loop().run_in_executor(_NORMALISER, partial(function, *args, **kwargs))


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
