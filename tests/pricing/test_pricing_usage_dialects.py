"""Cache writes reach their canonical column from every convention that reports them."""

from __future__ import annotations

import json

import pytest

from tests.pricing.otlp_usage import request_with
from tokentrail import semconv as sc
from tokentrail_collector.normalise import normalise_traces


def row_of(attributes: dict[str, str | int | float]) -> dict[str, object]:
    [row] = normalise_traces(request_with(attributes), project_id="p").rows
    return row


@pytest.mark.parametrize(
    "attributes",
    [
        {sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: 20},  # OpenTelemetry GenAI, tokentrail's SDK
        {sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS_OLD: 20},  # OpenLLMetry
        {sc.OI_LLM_TOKEN_COUNT_CACHE_WRITE: 20},  # OpenInference
        {sc.LANGFUSE_OBSERVATION_USAGE_DETAILS: json.dumps({"input": 50, "input_cache_creation": 20})},
        {sc.LANGFUSE_OBSERVATION_USAGE_DETAILS: json.dumps({"cache_creation_input_tokens": 20})},
    ],
)
def test_cache_write_tokens_from_each_convention(attributes: dict[str, str | int | float]) -> None:
    assert row_of(attributes)[sc.CACHE_WRITE_INPUT_TOKENS] == 20


def test_no_cache_writes_reported_is_unknown_not_zero() -> None:
    row = row_of({sc.GEN_AI_USAGE_INPUT_TOKENS: 10})
    assert row[sc.CACHE_WRITE_INPUT_TOKENS] is None
    assert row_of({sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: -3})[sc.CACHE_WRITE_INPUT_TOKENS] is None
