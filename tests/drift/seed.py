"""Spans with chosen times and facts, made by the OpenTelemetry SDK and sent over OTLP to a collector."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.trace import Status, StatusCode, Tracer
from opentelemetry.util.types import AttributeValue

from tests.otlp.otlp_spans import record_spans
from tokentrail import semconv as sc

PROTOBUF = {"Content-Type": "application/x-protobuf"}


@dataclass(frozen=True)
class SeedSpan:
    start_ns: int
    duration_ms: float
    model: str = ""
    prompt: str = ""
    completion: str = ""
    kind: str = sc.SpanKind.LLM.value
    name: str = "chat"
    error: bool = False
    finish_reason: str = "stop"
    input_tokens: int = 10
    output_tokens: int = 5
    ttft_ms: float | None = None
    tags: tuple[str, ...] = ()
    prompt_version: str | None = None
    tool_calls: tuple[str, ...] = ()


def _messages(role: str, text: str, tool_calls: Sequence[str] = ()) -> str:
    parts: list[dict[str, object]] = [{"type": "text", "content": text}] if text else []
    parts += [
        {"type": "tool_call", "id": f"call_{i}", "name": name, "arguments": {}}
        for i, name in enumerate(tool_calls)
    ]
    return json.dumps([{"role": role, "parts": parts}])


def _attributes(span: SeedSpan) -> dict[str, AttributeValue]:
    attributes: dict[str, AttributeValue] = {sc.TT_SPAN_KIND: span.kind}
    if span.kind == sc.SpanKind.TOOL.value:
        attributes[sc.GEN_AI_TOOL_NAME] = span.name
    if span.model:
        attributes |= {
            sc.GEN_AI_OPERATION_NAME: sc.GenAiOperation.CHAT.value,
            sc.GEN_AI_PROVIDER_NAME: "openai",
            sc.GEN_AI_REQUEST_MODEL: span.model,
            sc.GEN_AI_USAGE_INPUT_TOKENS: span.input_tokens,
            sc.GEN_AI_USAGE_OUTPUT_TOKENS: span.output_tokens,
            sc.GEN_AI_RESPONSE_FINISH_REASONS: (span.finish_reason,),
            sc.TT_COST_USD: span.input_tokens * 1e-6 + span.output_tokens * 4e-6,
        }
    if span.prompt:
        attributes[sc.GEN_AI_INPUT_MESSAGES] = _messages("user", span.prompt)
    if span.completion or span.tool_calls:
        attributes[sc.GEN_AI_OUTPUT_MESSAGES] = _messages("assistant", span.completion, span.tool_calls)
    if span.ttft_ms is not None:
        attributes[sc.TT_TIME_TO_FIRST_TOKEN_MS] = span.ttft_ms
    if span.tags:
        attributes[sc.TT_TAGS] = span.tags
    if span.prompt_version:
        attributes[sc.TT_PROMPT_VERSION] = span.prompt_version
    return attributes


def send_spans(
    client: httpx.Client, spans: Sequence[SeedSpan], *, service: str = "shop", release: str | None = None
) -> None:
    """Each span as a root span of its own trace, sent in one OTLP/protobuf request."""

    def emit(tracer: Tracer) -> None:
        for span in spans:
            live = tracer.start_span(span.name, start_time=span.start_ns, attributes=_attributes(span))
            if span.error:
                live.set_status(Status(StatusCode.ERROR, "boom"))
            live.end(end_time=span.start_ns + int(span.duration_ms * 1_000_000))

    resource: dict[str, str] = {sc.SERVICE_NAME: service}
    if release is not None:
        resource[sc.SERVICE_VERSION] = release
    body = encode_spans(record_spans(emit, resource=resource)).SerializeToString()
    response = client.post("/v1/traces", content=body, headers=PROTOBUF)
    assert response.status_code == 200, response.text
