"""Variant `openllmetry` (bench/.peers/openllmetry): `Traceloop.init()` exporting to the sink with
batching on (its default), `@task`, and the openai instrumentation it installs."""

import workload
from openai import OpenAI
from opentelemetry import trace
from traceloop.sdk import Traceloop
from traceloop.sdk.decorators import task

endpoint, provider = workload.arguments()
Traceloop.init(app_name="bench-peers", api_endpoint=endpoint, telemetry_enabled=False)
workload.serve(
    decorate=task(name="work"),
    flush=lambda: trace.get_tracer_provider().force_flush(),
    client=OpenAI(base_url=provider, api_key="sk-fake", max_retries=0),
)
