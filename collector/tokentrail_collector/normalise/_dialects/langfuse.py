"""Langfuse's OpenTelemetry spans (Python SDK v3 and later): `langfuse.observation.*`.

Usage and cost are JSON objects whose keys depend on who filled them: Langfuse's own names
(`input`, `output`, `total`, `input_cached_tokens`, ...), the provider's usage object as its
OpenAI integration passes it (`prompt_tokens`, `prompt_tokens_details.cached_tokens`, ...), or
Anthropic's (`input_tokens`, `cache_read_input_tokens`). A cost the app reported is the SDK's
cost: its `total`, else the sum of its parts. Later SDK releases send session and user as the
general `session.id` / `user.id` (the otel dialect), earlier ones under `langfuse.`.
"""

from __future__ import annotations

from datetime import datetime

from tokentrail import semconv as sc
from tokentrail_collector.normalise._dialect import Dialect, GatedDeriver, Read, SpanView
from tokentrail_collector.normalise._messages import as_message_text
from tokentrail_collector.normalise._values import (
    AttributeValue,
    as_count,
    as_non_negative_number,
    as_text,
    as_text_list,
    flatten,
    json_field,
    json_object,
    json_text,
)

_Kind = sc.SpanKind
_KIND_BY_OBSERVATION_TYPE = {
    "generation": _Kind.LLM.value,
    "embedding": _Kind.EMBEDDING.value,
    "agent": _Kind.AGENT.value,
    "tool": _Kind.TOOL.value,
    "chain": _Kind.CHAIN.value,
    "retriever": _Kind.RETRIEVAL.value,
    "span": _Kind.CHAIN.value,  # what @observe makes of a plain function
    "event": _Kind.OTHER.value,
    "evaluator": _Kind.OTHER.value,
    "guardrail": _Kind.OTHER.value,
}
_USAGE = sc.LANGFUSE_OBSERVATION_USAGE_DETAILS
_COST = sc.LANGFUSE_OBSERVATION_COST_DETAILS


def _kind(value: AttributeValue) -> str | None:
    return _KIND_BY_OBSERVATION_TYPE.get(value.strip().lower()) if isinstance(value, str) else None


def total_cost(value: AttributeValue) -> float | None:
    """The total of Langfuse cost details: `total`, else the sum of the parts (None if none is a number)."""
    details = json_object(value)
    if not details:
        return None
    total = as_non_negative_number(details.get("total"))
    if total is not None:
        return total
    parts = [as_non_negative_number(part) for part in details.values()]
    numbers = [part for part in parts if part is not None]
    return sum(numbers) if numbers else None


def _finish_reasons(value: AttributeValue) -> list[str] | None:
    return as_text_list(json_text(value))


def model_parameters(span: SpanView, found: dict[str, object]) -> None:
    """request_params from the JSON of `langfuse.observation.model.parameters`."""
    parameters = json_object(span.attributes.get(sc.LANGFUSE_OBSERVATION_MODEL_PARAMETERS))
    if not parameters:
        return
    params = found.get(sc.REQUEST_PARAMS)
    if not isinstance(params, dict):
        params = found[sc.REQUEST_PARAMS] = {}
    for name, value in parameters.items():
        if name not in params and value is not None:
            params[name] = flatten(value)


def completion_start(span: SpanView, found: dict[str, object]) -> None:
    """time_to_first_token_ms from `completion_start_time` (ISO 8601, sent JSON-encoded)."""
    if sc.TIME_TO_FIRST_TOKEN_MS in found or not span.start_time_unix_nano:
        return
    stamp = json_text(span.attributes.get(sc.LANGFUSE_OBSERVATION_COMPLETION_START_TIME))
    if not isinstance(stamp, str):
        return
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return
    if moment.tzinfo is None:
        return
    # Microseconds are all ISO text carries; integer arithmetic keeps them exact.
    epoch_us = int(moment.timestamp()) * 1_000_000 + moment.microsecond
    elapsed_ns = epoch_us * 1000 - span.start_time_unix_nano
    if elapsed_ns >= 0:
        found[sc.TIME_TO_FIRST_TOKEN_MS] = elapsed_ns / 1e6


LANGFUSE = Dialect(
    "langfuse",
    reads=(
        Read(sc.KIND, sc.LANGFUSE_OBSERVATION_TYPE, _kind),
        Read(sc.REQUEST_MODEL, sc.LANGFUSE_OBSERVATION_MODEL, as_text),
        Read(sc.INPUT_TOKENS, _USAGE, json_field(as_count, "input", "prompt_tokens", "input_tokens")),
        Read(sc.OUTPUT_TOKENS, _USAGE, json_field(as_count, "output", "completion_tokens", "output_tokens")),
        Read(sc.TOTAL_TOKENS, _USAGE, json_field(as_count, "total", "total_tokens")),
        Read(
            sc.CACHED_INPUT_TOKENS,
            _USAGE,
            json_field(
                as_count,
                "input_cached_tokens",
                "cache_read_input_tokens",
                "input_cache_read",
                "prompt_tokens_details.cached_tokens",
                "input_tokens_details.cached_tokens",
            ),
        ),  # fmt: skip
        Read(
            sc.CACHE_WRITE_INPUT_TOKENS,
            _USAGE,
            json_field(as_count, "input_cache_creation", "cache_creation_input_tokens", "input_cache_write"),
        ),
        Read(
            sc.REASONING_TOKENS,
            _USAGE,
            json_field(
                as_count,
                "output_reasoning_tokens",
                "output_reasoning",
                "reasoning_tokens",
                "completion_tokens_details.reasoning_tokens",
                "output_tokens_details.reasoning_tokens",
            ),
        ),  # fmt: skip
        Read(sc.COST_USD, _COST, total_cost),
        Read(sc.FINISH_REASONS, sc.LANGFUSE_OBSERVATION_FINISH_REASON, _finish_reasons),
        Read(sc.INPUT_TEXT, sc.LANGFUSE_OBSERVATION_INPUT, as_message_text),
        Read(sc.OUTPUT_TEXT, sc.LANGFUSE_OBSERVATION_OUTPUT, as_message_text),
        Read(sc.SESSION, sc.LANGFUSE_SESSION_ID, as_text),
        Read(sc.USER, sc.LANGFUSE_USER_ID, as_text),
        Read(sc.TAGS, sc.LANGFUSE_TRACE_TAGS, as_text_list),
    ),
    derivers=(
        GatedDeriver(model_parameters, keys=frozenset({sc.LANGFUSE_OBSERVATION_MODEL_PARAMETERS})),
        GatedDeriver(completion_start, keys=frozenset({sc.LANGFUSE_OBSERVATION_COMPLETION_START_TIME})),
    ),
)
