"""LLM spans as OTLP protobuf, with usage in the shapes the instrumentations send.

Canonical usage (what tokentrail's openai and anthropic instrumentors write, pinned by
tests/instrumentation): `gen_ai.usage.input_tokens` is the whole prompt, cache reads
(`gen_ai.usage.cache_read.input_tokens`) and cache writes (`gen_ai.usage.cache_creation.input_tokens`)
included; `gen_ai.usage.output_tokens` includes `gen_ai.usage.reasoning.output_tokens`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tokentrail import semconv as sc
from tokentrail.pricing import Usage

PROTOBUF = {"Content-Type": "application/x-protobuf"}
DAY_NS = 86_400 * 1_000_000_000


@dataclass(frozen=True)
class LlmCall:
    model: str
    start_ns: int
    usage: Usage
    response_model: str | None = None  # default: the same as the model
    cost_usd: float | None = None  # a cost the app reported itself
    span_id: bytes = b""

    def attributes(self) -> list[KeyValue]:
        usage = self.usage
        values: dict[str, str | int | float] = {
            sc.GEN_AI_OPERATION_NAME: "chat",
            sc.GEN_AI_REQUEST_MODEL: self.model,
            sc.GEN_AI_RESPONSE_MODEL: self.model if self.response_model is None else self.response_model,
        }
        counts = {
            sc.GEN_AI_USAGE_INPUT_TOKENS: usage.input_tokens,
            sc.GEN_AI_USAGE_OUTPUT_TOKENS: usage.output_tokens,
            sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: usage.cached_input_tokens,
            sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: usage.cache_write_input_tokens,
            sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: usage.reasoning_tokens,
            sc.TT_COST_USD: self.cost_usd,
        }
        values.update({key: value for key, value in counts.items() if value is not None})
        return [_kv(key, value) for key, value in values.items()]


def _kv(key: str, value: str | int | float) -> KeyValue:
    if isinstance(value, str):
        return KeyValue(key=key, value=AnyValue(string_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(double_value=value))


def otlp_body(calls: list[LlmCall], *, trace_each: bool = False) -> tuple[bytes, list[str]]:
    """One OTLP request holding `calls` as spans of one trace (or each of its own trace, in the
    order of `calls`); the body and the trace ids (hex)."""
    trace_ids = [os.urandom(16) for _ in calls] if trace_each else [os.urandom(16)] * len(calls)
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.append(_kv(sc.SERVICE_NAME, "pricing-tests"))
    scope = resource_spans.scope_spans.add()
    for call, trace_id in zip(calls, trace_ids, strict=True):
        scope.spans.append(
            Span(
                trace_id=trace_id,
                span_id=call.span_id or os.urandom(8),
                name=f"chat {call.model}",
                kind=Span.SPAN_KIND_CLIENT,
                start_time_unix_nano=call.start_ns,
                end_time_unix_nano=call.start_ns + 1_000_000,
                attributes=call.attributes(),
            )
        )
    return request.SerializeToString(), list(dict.fromkeys(trace_id.hex() for trace_id in trace_ids))


def request_with(attributes: dict[str, str | int | float]) -> ExportTraceServiceRequest:
    """One span carrying exactly `attributes`, as an OTLP request."""
    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    start = 1_767_225_600 * 1_000_000_000
    scope.spans.append(
        Span(trace_id=os.urandom(16), span_id=os.urandom(8), name="llm", start_time_unix_nano=start,
             end_time_unix_nano=start + 1, attributes=[_kv(key, value) for key, value in attributes.items()])
    )  # fmt: skip
    return request
