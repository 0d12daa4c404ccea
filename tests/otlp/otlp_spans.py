"""Spans made by the real OpenTelemetry SDK, encoded by the real OTLP exporter code, for the tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import Tracer

from tokentrail import semconv as sc

START_NS = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z


def record_spans(
    emit: Callable[[Tracer], None],
    *,
    resource: Mapping[str, Any] | None = None,
    id_generator: IdGenerator | None = None,
) -> list[ReadableSpan]:
    """The spans `emit` makes with a tracer of a fresh SDK TracerProvider."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create(dict(resource or {})),
        shutdown_on_exit=False,
        span_limits=SpanLimits(max_attributes=1000, max_events=1000, max_attribute_length=None),
        id_generator=id_generator,
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    emit(provider.get_tracer("tests.otlp", "1.0"))
    provider.shutdown()
    return list(exporter.get_finished_spans())


def export_request(
    emit: Callable[[Tracer], None],
    *,
    resource: Mapping[str, Any] | None = None,
    id_generator: IdGenerator | None = None,
) -> ExportTraceServiceRequest:
    """The ExportTraceServiceRequest the OTLP exporter would send for the spans `emit` makes."""
    return encode_spans(record_spans(emit, resource=resource, id_generator=id_generator))


class FixedIds(IdGenerator):
    """Hands out the trace and span ids it is given, in order (for spans with chosen ids)."""

    def __init__(self, trace_ids: list[int], span_ids: list[int]) -> None:
        self._trace_ids = list(trace_ids)
        self._span_ids = list(span_ids)

    def generate_trace_id(self) -> int:
        return self._trace_ids.pop(0)

    def generate_span_id(self) -> int:
        return self._span_ids.pop(0)


def one_span_request(
    attributes: Mapping[str, Any],
    *,
    name: str = "chat gpt-4o-mini",
    resource: Mapping[str, Any] | None = None,
    duration_ns: int = 1_500_000_000,
    exception: BaseException | None = None,
) -> ExportTraceServiceRequest:
    """A request with one SDK span carrying `attributes`."""

    def emit(tracer: Tracer) -> None:
        span = tracer.start_span(name, attributes=dict(attributes), start_time=START_NS)
        if exception is not None:
            span.record_exception(exception)
        span.end(end_time=START_NS + duration_ns)

    return export_request(emit, resource=resource)


def llm_attributes(
    index: int = 0, *, prompt_bytes: int = 1000, completion_bytes: int = 400
) -> dict[str, Any]:
    """22 attributes as an instrumented chat completion sets them (1 KB prompt, 400 B answer).

    What differs between calls in a real application (ids, token counts, timings, cost, content,
    session) differs with `index`; the rest (model, parameters, tags) stays the same.
    """
    filler = f"{index:08d}"
    prompt = json.dumps(
        [{"role": "user", "parts": [{"type": "text", "content": (filler * prompt_bytes)[:prompt_bytes]}]}]
    )
    completion = json.dumps(
        [
            {
                "role": "assistant",
                "parts": [{"type": "text", "content": (filler * completion_bytes)[:completion_bytes]}],
            }
        ]
    )
    return {
        sc.GEN_AI_OPERATION_NAME: "chat",
        sc.GEN_AI_PROVIDER_NAME: "openai",
        sc.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
        sc.GEN_AI_RESPONSE_MODEL: "gpt-4o-mini-2024-07-18",
        sc.GEN_AI_RESPONSE_ID: f"chatcmpl-AbCdEfGhIjKlMnOpQrSt{index:010d}",
        sc.GEN_AI_REQUEST_TEMPERATURE: 0.7,
        sc.GEN_AI_REQUEST_MAX_TOKENS: 512,
        sc.GEN_AI_REQUEST_TOP_P: 1.0,
        sc.GEN_AI_USAGE_INPUT_TOKENS: 200 + index % 300,
        sc.GEN_AI_USAGE_OUTPUT_TOKENS: 50 + index % 200,
        sc.GEN_AI_RESPONSE_FINISH_REASONS: ("stop",),
        sc.GEN_AI_INPUT_MESSAGES: prompt,
        sc.GEN_AI_OUTPUT_MESSAGES: completion,
        sc.TT_SPAN_KIND: "llm",
        sc.TT_IS_STREAMING: True,
        sc.TT_TIME_TO_FIRST_TOKEN_MS: 150.0 + index / 7,
        sc.TT_COST_USD: 0.0001 + index * 1e-7,
        sc.SESSION_ID: f"session-{index // 10:06d}",
        sc.USER_ID: f"user-{index % 50}",
        sc.TT_TAGS: ("prod", "checkout"),
        "server.address": "api.openai.com",
        "server.port": 443,
    }


LLM_RESOURCE = {
    sc.SERVICE_NAME: "checkout-assistant",
    "deployment.environment.name": "prod",
    sc.TT_SDK_VERSION: "0.1.0",
}


def llm_request(count: int, *, first_index: int = 0) -> ExportTraceServiceRequest:
    """`count` realistic LLM spans of one service, as one export request (see `llm_attributes`)."""

    def emit(tracer: Tracer) -> None:
        for index in range(first_index, first_index + count):
            start = START_NS + index * 1_000_000
            span = tracer.start_span("chat gpt-4o-mini", attributes=llm_attributes(index), start_time=start)
            span.end(end_time=start + 1_200_000_000)

    return export_request(emit, resource=LLM_RESOURCE)
