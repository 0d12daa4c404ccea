"""OpenTelemetry GenAI semantic conventions: the current names, and the deprecated ones still sent.

Message content keeps the conventions' own shape (`gen_ai.input.messages`, as sent); the system
instructions, which the conventions keep apart, join the input messages as their first, system,
message, so every dialect's input reads as one chat.
"""

from __future__ import annotations

from tokentrail import semconv as sc
from tokentrail_collector.normalise._dialect import Dialect, GatedDeriver, PrefixRead, Read, SpanView
from tokentrail_collector.normalise._messages import (
    as_genai_messages,
    as_message_text,
    messages_json,
    messages_of,
    system_message,
)
from tokentrail_collector.normalise._values import (
    AttributeValue,
    as_count,
    as_milliseconds_from_seconds,
    as_provider,
    as_text,
    as_text_list,
    flatten,
)

_Op = sc.GenAiOperation
_KIND_BY_OPERATION: dict[str, str] = {
    _Op.CHAT.value: sc.SpanKind.LLM.value,
    _Op.TEXT_COMPLETION.value: sc.SpanKind.LLM.value,
    _Op.GENERATE_CONTENT.value: sc.SpanKind.LLM.value,
    _Op.COMPLETION.value: sc.SpanKind.LLM.value,
    _Op.EMBEDDINGS.value: sc.SpanKind.EMBEDDING.value,
    _Op.EXECUTE_TOOL.value: sc.SpanKind.TOOL.value,
    _Op.INVOKE_AGENT.value: sc.SpanKind.AGENT.value,
    _Op.CREATE_AGENT.value: sc.SpanKind.AGENT.value,
}


def kind_of_operation(value: AttributeValue) -> str | None:
    """The span kind a `gen_ai.operation.name` implies; None for an operation we do not know."""
    if isinstance(value, str):
        return _KIND_BY_OPERATION.get(value.strip().lower())
    return None


def system_instructions_first(span: SpanView, found: dict[str, object]) -> None:
    """`gen_ai.system_instructions` as the first input message, unless the messages have a system
    message already (some instrumentations send both) or the input came from elsewhere."""
    system = system_message(span.attributes.get(sc.GEN_AI_SYSTEM_INSTRUCTIONS))
    if system is None:
        return
    sent = span.attributes.get(sc.GEN_AI_INPUT_MESSAGES)
    if sc.INPUT_TEXT not in found:
        found[sc.INPUT_TEXT] = messages_json([system])
        return
    if sent is None or found[sc.INPUT_TEXT] != as_genai_messages(sent):
        return
    messages = messages_of(sent)
    if messages is not None and not any(message[sc.MESSAGE_ROLE] == "system" for message in messages):
        found[sc.INPUT_TEXT] = messages_json([system, *messages])


GENAI = Dialect(
    "gen_ai",
    reads=(
        Read(sc.KIND, sc.GEN_AI_OPERATION_NAME, kind_of_operation),
        Read(sc.OPERATION, sc.GEN_AI_OPERATION_NAME, as_text),
        Read(sc.PROVIDER, sc.GEN_AI_PROVIDER_NAME, as_provider),
        Read(sc.REQUEST_MODEL, sc.GEN_AI_REQUEST_MODEL, as_text),
        Read(sc.RESPONSE_MODEL, sc.GEN_AI_RESPONSE_MODEL, as_text),
        Read(sc.INPUT_TOKENS, sc.GEN_AI_USAGE_INPUT_TOKENS, as_count),
        Read(sc.OUTPUT_TOKENS, sc.GEN_AI_USAGE_OUTPUT_TOKENS, as_count),
        Read(sc.CACHED_INPUT_TOKENS, sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, as_count),
        Read(sc.CACHE_WRITE_INPUT_TOKENS, sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, as_count),
        Read(sc.REASONING_TOKENS, sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, as_count),
        Read(sc.TOTAL_TOKENS, sc.GEN_AI_USAGE_TOTAL_TOKENS, as_count),
        Read(sc.FINISH_REASONS, sc.GEN_AI_RESPONSE_FINISH_REASONS, as_text_list),
        Read(sc.INPUT_TEXT, sc.GEN_AI_INPUT_MESSAGES, as_genai_messages),
        Read(sc.OUTPUT_TEXT, sc.GEN_AI_OUTPUT_MESSAGES, as_genai_messages),
        Read(sc.SESSION, sc.GEN_AI_CONVERSATION_ID, as_text),
        # Not (yet) in the conventions, sent by Anthropic's own SDK instrumentation.
        Read(sc.TIME_TO_FIRST_TOKEN_MS, sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, as_milliseconds_from_seconds),
    ),
    prefix_reads=(
        PrefixRead(
            sc.REQUEST_PARAMS,
            sc.GEN_AI_REQUEST_PREFIX,
            flatten,
            exclude=frozenset({sc.GEN_AI_REQUEST_MODEL}),
        ),
    ),
    derivers=(GatedDeriver(system_instructions_first, keys=frozenset({sc.GEN_AI_SYSTEM_INSTRUCTIONS})),),
)


GENAI_DEPRECATED = Dialect(
    "gen_ai (deprecated names)",
    reads=(
        Read(sc.PROVIDER, sc.GEN_AI_SYSTEM, as_provider),
        Read(sc.INPUT_TOKENS, sc.GEN_AI_USAGE_PROMPT_TOKENS, as_count),
        Read(sc.OUTPUT_TOKENS, sc.GEN_AI_USAGE_COMPLETION_TOKENS, as_count),
        Read(sc.INPUT_TEXT, sc.GEN_AI_PROMPT, as_message_text),
        Read(sc.OUTPUT_TEXT, sc.GEN_AI_COMPLETION, as_message_text),
    ),
)
