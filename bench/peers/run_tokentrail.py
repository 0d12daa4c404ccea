"""Variant `tokentrail` (project venv): `tokentrail.init()` with its defaults (content capture on),
`@tokentrail.observe`, and the openai client auto-instrumented."""

import workload
from openai import OpenAI

import tokentrail

endpoint, provider = workload.arguments()
tokentrail.init(endpoint=endpoint, api_key="bench", service_name="bench-peers", instrument=["openai"])
workload.serve(
    decorate=tokentrail.observe,
    flush=lambda: tokentrail.flush(timeout_s=60),
    client=OpenAI(base_url=provider, api_key="sk-fake", max_retries=0),
    shutdown=tokentrail.shutdown,
)
