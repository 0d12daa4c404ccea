"""Variant `bare`: no SDK; the baseline each variant's overhead is measured against (any peer's env)."""

import workload
from openai import OpenAI

_, provider = workload.arguments()
workload.serve(
    decorate=lambda fn: fn,
    flush=lambda: None,
    client=OpenAI(base_url=provider, api_key="sk-fake", max_retries=0),
)
