"""Data for the UI tests, sent to a real collector the way apps send it (OTLP/HTTP protobuf).

Two models answer support questions over the last six hours. In the last three hours
`gpt-4o-mini` gets a new topic of prompts (passwords and logins) and answers slower; the other
model does not change (the planted drift). Some calls carry tool calls, tags, GPU figures and
errors with an error type; two GPUs send gauges for the last half hour.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from tests.support import CollectorProcess
from tokentrail import semconv as sc

PROTOBUF = {"Content-Type": "application/x-protobuf"}
SERVICE = "support-bot"
DRIFTED_MODEL = "gpt-4o-mini"
STEADY_MODEL = "claude-3-5-haiku"
TOOL_NAME = "lookup_order"
TAG = "checkout"
ERROR_TYPE = "RateLimitError"
GPU_NAME = "NVIDIA H100 80GB HBM3"
UNPRICED_MODEL = "acme-llm-1"
HOUR_NS = 3600 * 1_000_000_000

OLD_TOPICS = (
    "How do I get a refund for order {n}?",
    "Where is my invoice for order {n}?",
    "When will my shipping for order {n} arrive?",
)
NEW_TOPIC = "I cannot log in, please reset the password of account {n}"


@dataclass
class Seeded:
    """What was sent, for the tests to compare the pages against."""

    traces: dict[str, dict[str, object]] = field(default_factory=dict)  # trace id -> facts
    tool_trace: str = ""  # a trace whose LLM call made a tool call
    error_trace: str = ""
    costliest_trace: str = ""
    gpu_trace: str = ""

    def count(self, **facts: object) -> int:
        return sum(all(trace.get(k) == v for k, v in facts.items()) for trace in self.traces.values())


def kv(key: str, value: str | int | float | bool | list[str]) -> KeyValue:
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, str):
        return KeyValue(key=key, value=AnyValue(string_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    if isinstance(value, list):
        items = [AnyValue(string_value=item) for item in value]
        return KeyValue(key=key, value=AnyValue(array_value=ArrayValue(values=items)))
    return KeyValue(key=key, value=AnyValue(double_value=value))


def messages(role: str, text: str, *, tool_call: bool = False) -> str:
    parts: list[dict[str, object]] = [{"type": "text", "content": text}]
    if tool_call:
        parts.append({"type": "tool_call", "id": "call_1", "name": TOOL_NAME, "arguments": {"order": 42}})
    return json.dumps([{"role": role, "parts": parts}])


def seed(collector: CollectorProcess, key: str, *, traces_per_side: int = 60, rng_seed: int = 7) -> Seeded:
    rng = random.Random(rng_seed)
    now = time.time_ns()
    seeded = Seeded()
    request = ExportTraceServiceRequest()
    resource = request.resource_spans.add()
    resource.resource.attributes.append(kv(sc.SERVICE_NAME, SERVICE))
    scope = resource.scope_spans.add().spans
    costliest = 0.0
    for index in range(2 * traces_per_side):
        current = index >= traces_per_side
        model = DRIFTED_MODEL if index % 2 == 0 else STEADY_MODEL
        drifted = current and model == DRIFTED_MODEL
        start = now - (6 * HOUR_NS if not current else 3 * HOUR_NS) + rng.randint(0, int(2.5 * HOUR_NS))
        question = (NEW_TOPIC if drifted else rng.choice(OLD_TOPICS)).format(n=rng.randint(100, 999))
        latency_ms = rng.uniform(1500, 2000) if drifted else rng.uniform(300, 600)
        tool_call = index % 5 == 1
        failed = index % 11 == 3
        gpu = index % 7 == 0
        trace_id, root_id, llm_id = rng.randbytes(16), rng.randbytes(8), rng.randbytes(8)
        input_tokens, output_tokens = rng.randint(80, 200), rng.randint(20, 120)
        cost = (input_tokens * 2 + output_tokens * 8) * 1e-7 * (3 if model == DRIFTED_MODEL else 1)
        duration_ns = int(latency_ms * 1_000_000)
        root = Span(
            trace_id=trace_id,
            span_id=root_id,
            name="answer",
            start_time_unix_nano=start,
            end_time_unix_nano=start + duration_ns + 5_000_000,
            attributes=[kv(sc.TT_SPAN_KIND, "chain"), kv(sc.TT_TAGS, [TAG] if tool_call else ["faq"])],
        )
        attributes = [
            kv(sc.TT_SPAN_KIND, "llm"),
            kv(sc.GEN_AI_OPERATION_NAME, "chat"),
            kv(sc.GEN_AI_PROVIDER_NAME, "openai" if model == DRIFTED_MODEL else "anthropic"),
            kv(sc.GEN_AI_REQUEST_MODEL, model),
            kv(sc.GEN_AI_REQUEST_TEMPERATURE, 0.2),
            kv(sc.GEN_AI_USAGE_INPUT_TOKENS, input_tokens),
            kv(sc.GEN_AI_USAGE_OUTPUT_TOKENS, output_tokens),
            kv(sc.TT_COST_USD, cost),
            kv(sc.TT_TIME_TO_FIRST_TOKEN_MS, latency_ms * 0.3),
            kv(sc.GEN_AI_INPUT_MESSAGES, messages("user", question)),
            kv(
                sc.GEN_AI_OUTPUT_MESSAGES,
                messages("assistant", f"Here is what I found about: {question}", tool_call=tool_call),
            ),
        ]
        if gpu:
            attributes += [
                kv(sc.TT_GPU_UTIL_AVG, 71.5),
                kv(sc.TT_GPU_UTIL_MAX, 97.0),
                kv(sc.TT_GPU_MEMORY_PEAK_BYTES, 40 * 2**30),
                kv(sc.TT_GPU_POWER_AVG_WATTS, 420.0),
                kv(sc.TT_GPU_ENERGY_JOULES, 420.0 * latency_ms / 1000),
            ]
        status = Status()
        if failed:
            attributes.append(kv(sc.ERROR_TYPE, ERROR_TYPE))
            status = Status(code=Status.STATUS_CODE_ERROR, message="rate limited by the provider")
        llm = Span(
            trace_id=trace_id,
            span_id=llm_id,
            parent_span_id=root_id,
            name=f"chat {model}",
            kind=Span.SPAN_KIND_CLIENT,
            start_time_unix_nano=start + 2_000_000,
            end_time_unix_nano=start + 2_000_000 + duration_ns,
            attributes=attributes,
            status=status,
        )
        scope.extend([root, llm])
        hex_id = trace_id.hex()
        seeded.traces[hex_id] = {
            "model": model, "current": current, "drifted": drifted, "tool_call": tool_call,
            "failed": failed, "gpu": gpu, "question": question, "cost": cost,
        }  # fmt: skip
        if tool_call and not seeded.tool_trace:
            seeded.tool_trace = hex_id
        if failed and not seeded.error_trace:
            seeded.error_trace = hex_id
        if gpu and not seeded.gpu_trace:
            seeded.gpu_trace = hex_id
        if cost > costliest:
            costliest, seeded.costliest_trace = cost, hex_id

    with collector.client(key) as client:
        answer = client.post("/v1/traces", content=request.SerializeToString(), headers=PROTOBUF)
        assert answer.status_code == 200, answer.text
        answer = client.post("/v1/metrics", content=gpu_gauges(now).SerializeToString(), headers=PROTOBUF)
        assert answer.status_code == 200, answer.text
    return seeded


def gpu_gauges(now_ns: int) -> ExportMetricsServiceRequest:
    """Two GPUs' utilisation, memory, power and energy counter, every 30 s for the last 30 minutes."""
    request = ExportMetricsServiceRequest()
    resource = request.resource_metrics.add()
    resource.resource.attributes.extend([kv(sc.SERVICE_NAME, SERVICE), kv(sc.HOST_NAME, "gpu-box")])
    metrics = resource.scope_metrics.add().metrics
    points = [now_ns - HOUR_NS // 2 + step * 30_000_000_000 for step in range(60)]
    series = {
        (sc.METRIC_GPU_UTILIZATION, "%"): lambda device, step: 40.0 + 20 * device + step % 10,
        (sc.METRIC_GPU_MEMORY_USED, "By"): lambda device, step: float((20 + device * 10) * 2**30),
        (sc.METRIC_GPU_POWER, "W"): lambda device, step: 300.0 + 50 * device,
        (sc.METRIC_GPU_ENERGY, "J"): lambda device, step: 1e6 + step * 30 * (300.0 + 50 * device),
    }
    for (name, unit), value in series.items():
        metric = metrics.add(name=name, unit=unit)
        for device in (0, 1):
            for step, moment in enumerate(points):
                point = metric.gauge.data_points.add(time_unix_nano=moment, as_double=value(device, step))
                point.attributes.extend(
                    [kv(sc.GPU_INDEX, device), kv(sc.GPU_UUID, f"GPU-{device}"), kv(sc.GPU_NAME, GPU_NAME)]
                )
    return request


def send_unpriced_spans(collector: CollectorProcess, key: str, count: int = 3) -> None:
    """`count` calls of a model no price table knows: tokens, no cost."""
    request = ExportTraceServiceRequest()
    spans = request.resource_spans.add().scope_spans.add().spans
    now = time.time_ns()
    for index in range(count):
        spans.append(
            Span(
                trace_id=bytes([index + 1]) * 16,
                span_id=bytes([index + 1]) * 8,
                name="chat",
                start_time_unix_nano=now - 60_000_000_000,
                end_time_unix_nano=now - 59_000_000_000,
                attributes=[
                    kv(sc.GEN_AI_REQUEST_MODEL, UNPRICED_MODEL),
                    kv(sc.GEN_AI_USAGE_INPUT_TOKENS, 1000),
                    kv(sc.GEN_AI_USAGE_OUTPUT_TOKENS, 500),
                ],
            )
        )
    with collector.client(key) as client:
        answer = client.post("/v1/traces", content=request.SerializeToString(), headers=PROTOBUF)
        assert answer.status_code == 200, answer.text
