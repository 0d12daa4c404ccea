"""OpenInference (Arize Phoenix's conventions): `openinference.span.kind`, `llm.*`, `input.value`.

Messages come as numbered attributes (`llm.input_messages.N.message.role`, `.content` or
`.contents.M.message_content.text`, `.tool_calls.M.tool_call.function.name`), gathered here into
canonical messages; `input.value` / `output.value` stand in where a span has no messages (a
chain's input, or an LLM span whose messages were hidden), as messages when they are request or
response bodies. Session and user are the general `session.id` / `user.id` (the otel dialect).
"""

from __future__ import annotations

from tokentrail import semconv as sc
from tokentrail_collector.normalise._dialect import Dialect, GatedDeriver, Read, SpanView
from tokentrail_collector.normalise._messages import (
    Message,
    as_message_text,
    gather,
    message_of,
    messages_json,
    nest,
    ordered,
)
from tokentrail_collector.normalise._values import (
    AttributeValue,
    as_count,
    as_flag,
    as_non_negative_number,
    as_provider,
    as_text,
    as_text_list,
    flatten,
    json_field,
    json_object,
)

_Kind = sc.SpanKind
_KIND_BY_OPENINFERENCE_KIND: dict[str, str] = {
    "LLM": _Kind.LLM.value,
    "EMBEDDING": _Kind.EMBEDDING.value,
    "CHAIN": _Kind.CHAIN.value,
    "AGENT": _Kind.AGENT.value,
    "TOOL": _Kind.TOOL.value,
    "RETRIEVER": _Kind.RETRIEVAL.value,
    "RERANKER": _Kind.RETRIEVAL.value,
    "GUARDRAIL": _Kind.OTHER.value,
    "EVALUATOR": _Kind.OTHER.value,
    "PROMPT": _Kind.OTHER.value,
    "UNKNOWN": _Kind.OTHER.value,
}
_OPERATION_BY_OPENINFERENCE_KIND = {
    "LLM": sc.GenAiOperation.CHAT.value,
    "EMBEDDING": sc.GenAiOperation.EMBEDDINGS.value,
}
# Invocation parameters that are content or the model, not parameters.
_NOT_PARAMETERS = frozenset({"model", "messages", "system", "prompt", "input", "tools", "functions"})


def _kind(value: AttributeValue) -> str | None:
    return _KIND_BY_OPENINFERENCE_KIND.get(value.strip().upper()) if isinstance(value, str) else None


def _operation(value: AttributeValue) -> str | None:
    return _OPERATION_BY_OPENINFERENCE_KIND.get(value.strip().upper()) if isinstance(value, str) else None


def numbered_messages(attributes: dict[str, AttributeValue], prefix: str) -> list[Message]:
    """The canonical messages of `llm.input_messages.N.message.*` (or the output list)."""
    found = []
    for entry in ordered(nest(gather(attributes, prefix))):
        body = entry.get(sc.OI_MESSAGE) if isinstance(entry, dict) else None
        if not isinstance(body, dict):
            continue
        contents = body.get(sc.OI_MESSAGE_CONTENTS)
        if isinstance(contents, dict) and sc.MESSAGE_CONTENT not in body:
            body = {**body, sc.MESSAGE_CONTENT: _blocks(contents)}
        built = message_of(body, role="user" if prefix == sc.OI_LLM_INPUT_MESSAGES_PREFIX else "assistant")
        if built is not None:
            found.append(built)
    return found


def _blocks(contents: dict[object, object]) -> list[object]:
    """`contents.M.message_content.{type,text,image.image.url}` as content blocks."""
    blocks = []
    for item in ordered(contents):
        block = item.get(sc.OI_MESSAGE_CONTENT) if isinstance(item, dict) else None
        if isinstance(block, dict):
            blocks.append(block if "type" in block else {**block, "type": "text"})
    return blocks


def content(span: SpanView, found: dict[str, object]) -> None:
    """input_text / output_text from the numbered messages, else from input.value / output.value."""
    attributes = span.attributes
    for column, prefix, value_key in (
        (sc.INPUT_TEXT, sc.OI_LLM_INPUT_MESSAGES_PREFIX, sc.OI_INPUT_VALUE),
        (sc.OUTPUT_TEXT, sc.OI_LLM_OUTPUT_MESSAGES_PREFIX, sc.OI_OUTPUT_VALUE),
    ):
        if column in found:
            continue
        messages = numbered_messages(attributes, prefix)
        if messages:
            if column == sc.OUTPUT_TEXT and len(messages) == 1:
                reasons = as_text_list(attributes.get(sc.OI_LLM_FINISH_REASON))
                if reasons and sc.MESSAGE_FINISH_REASON not in messages[0]:
                    messages[0][sc.MESSAGE_FINISH_REASON] = reasons[0]
            found[column] = messages_json(messages)
        elif value_key in attributes:
            text = as_message_text(attributes[value_key])
            if text is not None:
                found[column] = text


def invocation_parameters(span: SpanView, found: dict[str, object]) -> None:
    """request_params from the JSON of `llm.invocation_parameters` (beside any a read gave)."""
    parameters = json_object(span.attributes.get(sc.OI_LLM_INVOCATION_PARAMETERS))
    if not parameters:
        return
    params = found.get(sc.REQUEST_PARAMS)
    if not isinstance(params, dict):
        params = found[sc.REQUEST_PARAMS] = {}
    for name, value in parameters.items():
        if name not in _NOT_PARAMETERS and name not in params and value is not None:
            params[name] = flatten(value)


def first_token_event(span: SpanView, found: dict[str, object]) -> None:
    """time_to_first_token_ms from the first-token event OpenInference adds to streamed calls."""
    if not span.events or sc.TIME_TO_FIRST_TOKEN_MS in found or not span.start_time_unix_nano:
        return
    for event in span.events:
        if event["name"] == sc.OI_FIRST_TOKEN_EVENT:
            elapsed = event["time_unix_nano"] - span.start_time_unix_nano
            if elapsed >= 0:
                found[sc.TIME_TO_FIRST_TOKEN_MS] = elapsed / 1e6
            return


_PARAMETERS = sc.OI_LLM_INVOCATION_PARAMETERS

OPENINFERENCE = Dialect(
    "openinference",
    reads=(
        Read(sc.KIND, sc.OI_SPAN_KIND, _kind),
        Read(sc.OPERATION, sc.OI_SPAN_KIND, _operation),
        Read(sc.PROVIDER, sc.OI_LLM_PROVIDER, as_provider),
        Read(sc.PROVIDER, sc.OI_LLM_SYSTEM, as_provider),
        Read(sc.REQUEST_MODEL, sc.OI_LLM_REQUEST_MODEL_NAME, as_text),
        Read(sc.REQUEST_MODEL, _PARAMETERS, json_field(as_text, "model")),
        Read(sc.REQUEST_MODEL, sc.OI_EMBEDDING_MODEL_NAME, as_text),
        Read(sc.REQUEST_MODEL, sc.OI_LLM_MODEL_NAME, as_text),
        Read(sc.RESPONSE_MODEL, sc.OI_LLM_RESPONSE_MODEL_NAME, as_text),
        Read(sc.RESPONSE_MODEL, sc.OI_LLM_MODEL_NAME, as_text),
        Read(sc.INPUT_TOKENS, sc.OI_LLM_TOKEN_COUNT_PROMPT, as_count),
        Read(sc.OUTPUT_TOKENS, sc.OI_LLM_TOKEN_COUNT_COMPLETION, as_count),
        Read(sc.TOTAL_TOKENS, sc.OI_LLM_TOKEN_COUNT_TOTAL, as_count),
        Read(sc.CACHED_INPUT_TOKENS, sc.OI_LLM_TOKEN_COUNT_CACHE_READ, as_count),
        Read(sc.CACHE_WRITE_INPUT_TOKENS, sc.OI_LLM_TOKEN_COUNT_CACHE_WRITE, as_count),
        Read(sc.REASONING_TOKENS, sc.OI_LLM_TOKEN_COUNT_REASONING, as_count),
        Read(sc.FINISH_REASONS, sc.OI_LLM_FINISH_REASON, as_text_list),
        Read(sc.COST_USD, sc.OI_LLM_COST_TOTAL, as_non_negative_number),
        Read(sc.IS_STREAMING, _PARAMETERS, json_field(as_flag, "stream")),
        Read(sc.TAGS, sc.OI_TAG_TAGS, as_text_list),
    ),
    derivers=(
        GatedDeriver(
            content,
            keys=frozenset({sc.OI_INPUT_VALUE, sc.OI_OUTPUT_VALUE}),
            prefixes=(sc.OI_LLM_INPUT_MESSAGES_PREFIX, sc.OI_LLM_OUTPUT_MESSAGES_PREFIX),
        ),
        GatedDeriver(invocation_parameters, keys=frozenset({_PARAMETERS})),
        GatedDeriver(first_token_event, events=True),
    ),
)
