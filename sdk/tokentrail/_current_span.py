"""`update_current_span(...)`: LLM facts from user code onto the span that is current.

Facts (model, usage, cost, ...) go under their `gen_ai.*` / `tokentrail.*` names on any recording
span, tokentrail's or another instrumentation's. `input`/`output` are content: they pass the same
capture switch, redaction and size limit as `@observe`'s, and are skipped before `init()`. The rest
(metadata, tags, user and session ids, ...) is structured data the app chose to send: set as given,
not redacted, and sent with capture off too (the README says so).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from opentelemetry import trace
from opentelemetry.util.types import AttributeValue

from tokentrail import _runtime, semconv
from tokentrail._context_attributes import merge_tags, metadata_attributes
from tokentrail._internal import CAPTURE, logger
from tokentrail.semconv import SpanKind


def update_current_span(
    *,
    model: str | None = None,
    response_model: str | None = None,
    provider: str | None = None,
    operation: str | None = None,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    cached_input_tokens: int | None = None,
    cache_write_input_tokens: int | None = None,
    reasoning_tokens: int | None = None,
    total_tokens: int | None = None,
    cost_usd: float | None = None,
    time_to_first_token_ms: float | None = None,
    finish_reasons: Iterable[str] | None = None,
    input: object = None,  # noqa: A002 - the word users expect
    output: object = None,
    session_id: str | None = None,
    user_id: str | None = None,
    tags: Iterable[str] | None = None,
    metadata: Mapping[str, object] | None = None,
    name: str | None = None,
    kind: SpanKind | str | None = None,
    prompt_version: str | None = None,
) -> None:
    """Set these facts on the current span; arguments left as None are not touched.

    Token counts are the canonical ones: `input_tokens` includes cache reads
    (`cached_input_tokens`) and writes (`cache_write_input_tokens`), `output_tokens` includes
    `reasoning_tokens`. Give `cost_usd` only for a cost you know (a negotiated price, a provider's
    bill): the collector derives every other span's cost from its usage and the price table when
    it is read, so corrected or custom prices apply to it later, and a cost set here always wins.
    `prompt_version` names the prompt template's version, so drift can compare two versions.
    """
    with CAPTURE:
        span = trace.get_current_span()
        if not span.is_recording():
            return
        facts: dict[str, AttributeValue | None] = {
            semconv.GEN_AI_REQUEST_MODEL: model,
            semconv.GEN_AI_RESPONSE_MODEL: response_model,
            semconv.GEN_AI_PROVIDER_NAME: provider,
            semconv.GEN_AI_OPERATION_NAME: operation,
            semconv.GEN_AI_USAGE_INPUT_TOKENS: input_tokens,
            semconv.GEN_AI_USAGE_OUTPUT_TOKENS: output_tokens,
            semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: cached_input_tokens,
            semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: cache_write_input_tokens,
            semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: reasoning_tokens,
            semconv.GEN_AI_USAGE_TOTAL_TOKENS: total_tokens,
            semconv.TT_COST_USD: cost_usd,
            semconv.TT_TIME_TO_FIRST_TOKEN_MS: time_to_first_token_ms,
            semconv.SESSION_ID: session_id,
            semconv.USER_ID: user_id,
            semconv.TT_PROMPT_VERSION: prompt_version,
        }
        attributes: dict[str, AttributeValue] = {k: v for k, v in facts.items() if v is not None}
        if finish_reasons is not None:
            reasons = (finish_reasons,) if isinstance(finish_reasons, str) else finish_reasons
            attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = tuple(str(r) for r in reasons)
        if tags is not None:
            existing = (getattr(span, "attributes", None) or {}).get(semconv.TT_TAGS)
            attributes[semconv.TT_TAGS] = merge_tags(existing, tags)
        if metadata:
            attributes.update(metadata_attributes(metadata))
        if kind is not None:
            try:
                attributes[semconv.TT_SPAN_KIND] = SpanKind(kind).value
            except ValueError:
                logger.warning("tokentrail: unknown span kind %r ignored", kind)
        if attributes:
            span.set_attributes(attributes)
        if name is not None:
            span.update_name(name)
        runtime = _runtime.active
        if runtime is not None and (input is not None or output is not None):
            if input is not None:
                runtime.content.put(span, semconv.TT_INPUT, input)
            if output is not None:
                runtime.content.put(span, semconv.TT_OUTPUT, output)
