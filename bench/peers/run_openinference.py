"""Variant `openinference` (bench/.peers/openinference): OpenInference's TracerProvider with a
BatchSpanProcessor and OTLP/HTTP exporter (defaults), `@tracer.chain`, `OpenAIInstrumentor`."""

import workload
from openai import OpenAI
from openinference.instrumentation import TracerProvider
from openinference.instrumentation.openai import OpenAIInstrumentor
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import BatchSpanProcessor

endpoint, provider_url = workload.arguments()
provider = TracerProvider()
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint + "/v1/traces")))
OpenAIInstrumentor().instrument(tracer_provider=provider)
workload.serve(
    decorate=provider.get_tracer("bench").chain,
    flush=provider.force_flush,
    client=OpenAI(base_url=provider_url, api_key="sk-fake", max_retries=0),
    shutdown=provider.shutdown,
)
