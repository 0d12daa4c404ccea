"""Variant `openlit` (bench/.peers/openlit): `openlit.init()` with its defaults, `@openlit.trace`."""

import openlit
import workload
from openai import OpenAI
from opentelemetry import trace

endpoint, provider = workload.arguments()
openlit.init(otlp_endpoint=endpoint, application_name="bench-peers")
workload.serve(
    decorate=openlit.trace,
    flush=lambda: trace.get_tracer_provider().force_flush(),
    client=OpenAI(base_url=provider, api_key="sk-fake", max_retries=0),
)
