"""Realistic LLM spans for benchmarks: ~1 KB prompt, 400 B completion, 20 attributes, as OTLP protobuf."""

from __future__ import annotations

import os
import random
import time

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from tokentrail import semconv

MODELS = ("gpt-4o-mini", "gpt-4o", "claude-3-5-haiku", "claude-sonnet-4", "gemini-2.0-flash")
WORDS = "refund invoice password export latency token customer order shipping account billing plan".split()


def text(rng: random.Random, size: int) -> str:
    words: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(WORDS)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)[:size]


def kv(key: str, value: str | int | float) -> KeyValue:
    if isinstance(value, bool) or isinstance(value, str):
        return KeyValue(key=key, value=AnyValue(string_value=str(value)))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(double_value=value))


def llm_span(rng: random.Random, trace_id: bytes, start_ns: int) -> Span:
    model = rng.choice(MODELS)
    input_tokens, output_tokens = rng.randint(200, 400), rng.randint(50, 150)
    duration_ns = rng.randint(200, 3000) * 1_000_000
    attributes = [
        kv(semconv.TT_SPAN_KIND, "llm"),
        kv(semconv.GEN_AI_OPERATION_NAME, "chat"),
        kv(semconv.GEN_AI_PROVIDER_NAME, "openai" if model.startswith("gpt") else "anthropic"),
        kv(semconv.GEN_AI_REQUEST_MODEL, model),
        kv(semconv.GEN_AI_RESPONSE_MODEL, model + "-2025"),
        kv(semconv.GEN_AI_REQUEST_TEMPERATURE, 0.2),
        kv(semconv.GEN_AI_REQUEST_MAX_TOKENS, 512),
        kv(semconv.GEN_AI_REQUEST_TOP_P, 1.0),
        kv(semconv.GEN_AI_USAGE_INPUT_TOKENS, input_tokens),
        kv(semconv.GEN_AI_USAGE_OUTPUT_TOKENS, output_tokens),
        kv(semconv.GEN_AI_RESPONSE_ID, "chatcmpl-" + os.urandom(8).hex()),
        kv(semconv.TT_INPUT, text(rng, 1000)),
        kv(semconv.TT_OUTPUT, text(rng, 400)),
        kv(semconv.TT_TIME_TO_FIRST_TOKEN_MS, rng.uniform(50, 400)),
        kv(semconv.TT_COST_USD, input_tokens * 1.5e-7 + output_tokens * 6e-7),
        kv(semconv.SESSION_ID, f"session-{rng.randint(1, 500)}"),
        kv(semconv.USER_ID, f"user-{rng.randint(1, 200)}"),
        kv(semconv.TT_METADATA_PREFIX + "prompt_version", f"v{rng.randint(1, 4)}"),
        kv(semconv.TT_METADATA_PREFIX + "region", rng.choice(("eu", "us"))),
        kv("http.status_code", 200),
    ]
    status = (
        Status(code=Status.STATUS_CODE_ERROR, message="rate limited") if rng.random() < 0.02 else Status()
    )
    return Span(
        trace_id=trace_id,
        span_id=os.urandom(8),
        name="chat " + model,
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=start_ns,
        end_time_unix_nano=start_ns + duration_ns,
        attributes=attributes,
        status=status,
    )


def export_request(spans_per_request: int, *, seed: int, start_ns: int | None = None) -> bytes:
    """One OTLP request of unique spans (new trace ids), serialised."""
    rng = random.Random(seed)
    start = start_ns or time.time_ns() - 3_600_000_000_000
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.append(kv(semconv.SERVICE_NAME, "bench-app"))
    scope = resource_spans.scope_spans.add()
    trace_id = os.urandom(16)
    for index in range(spans_per_request):
        if index % 5 == 0:
            trace_id = os.urandom(16)
        scope.spans.append(llm_span(rng, trace_id, start + rng.randint(0, 3_600_000_000_000)))
    return request.SerializeToString()
