"""Variant `raw_otel` (project venv): a manual OpenTelemetry span, BatchSpanProcessor and OTLP/HTTP
exporter with their defaults; the openai call is wrapped by bench/llm_call_overhead.py's `in_raw_span`."""

import sys
from pathlib import Path

import workload
from openai import OpenAI
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from llm_call_overhead import in_raw_span  # noqa: E402

endpoint, provider_url = workload.arguments()
provider = TracerProvider()
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint + "/v1/traces")))
tracer = provider.get_tracer("bench")


def decorate(fn):  # the span bench/observe_overhead.py times as `raw_otel`
    def raw_span(x: int) -> int:
        with tracer.start_as_current_span("work") as span:
            span.set_attribute("input", str(x))
            result = fn(x)
            span.set_attribute("output", str(result))
            return result

    return raw_span


workload.serve(
    decorate=decorate,
    flush=provider.force_flush,
    client=OpenAI(base_url=provider_url, api_key="sk-fake", max_retries=0),
    call_factory=lambda client, streaming: in_raw_span(provider, client, streaming),
    shutdown=provider.shutdown,
)
