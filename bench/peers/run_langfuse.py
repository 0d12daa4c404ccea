"""Variant `langfuse` (bench/.peers/langfuse): the Langfuse client with its defaults, `@observe`, and
its drop-in `langfuse.openai.OpenAI`; it exports OTLP to `<base_url>/api/public/otel/v1/traces`."""

import workload
from langfuse import Langfuse, observe
from langfuse.openai import OpenAI

endpoint, provider = workload.arguments()
langfuse = Langfuse(public_key="pk-lf-bench", secret_key="sk-lf-bench", base_url=endpoint)
workload.serve(
    decorate=observe,
    flush=langfuse.flush,
    client=OpenAI(base_url=provider, api_key="sk-fake", max_retries=0),
    shutdown=langfuse.shutdown,
)
