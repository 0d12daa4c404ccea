"""OpenLLMetry (Traceloop): its own keys beside the OpenTelemetry GenAI names it also sends.

Usage comes as `gen_ai.usage.*` beside `llm.usage.total_tokens` (and `.reasoning_tokens`); the
earliest releases sent `llm.usage.prompt_tokens` / `.completion_tokens`, `llm.vendor`,
`llm.request.model` / `llm.response.model` and numbered `llm.prompts.N.*` / `llm.completions.N.*`.
Releases before 0.50 or so send messages as numbered attributes, `gen_ai.prompt.N.role` /
`.content` / `.tool_calls.M.*` and `gen_ai.completion.N.*` with `.finish_reason`; current ones
send `gen_ai.input.messages` (the gen_ai dialect). Workflow and task spans carry the decorated
function's arguments and result in `traceloop.entity.input` / `.output`; session and user are
association properties.
"""

from __future__ import annotations

from tokentrail import semconv as sc
from tokentrail_collector.normalise._dialect import Dialect, GatedDeriver, Read, SpanView
from tokentrail_collector.normalise._messages import (
    Message,
    gather,
    message_of,
    messages_json,
    nest,
    ordered,
)
from tokentrail_collector.normalise._values import AttributeValue, as_count, as_flag, as_provider, as_text

_Kind = sc.SpanKind
_Op = sc.GenAiOperation
_KIND_BY_TRACELOOP_KIND = {
    "workflow": _Kind.CHAIN.value,
    "task": _Kind.CHAIN.value,
    "agent": _Kind.AGENT.value,
    "tool": _Kind.TOOL.value,
}
# llm.request.type -> (kind, operation)
_BY_REQUEST_TYPE = {
    "chat": (_Kind.LLM.value, _Op.CHAT.value),
    "completion": (_Kind.LLM.value, _Op.TEXT_COMPLETION.value),
    "embedding": (_Kind.EMBEDDING.value, _Op.EMBEDDINGS.value),
    "rerank": (_Kind.RETRIEVAL.value, "rerank"),
}


def _traceloop_kind(value: AttributeValue) -> str | None:
    return _KIND_BY_TRACELOOP_KIND.get(value.strip().lower()) if isinstance(value, str) else None


def _request_kind(value: AttributeValue) -> str | None:
    pair = _BY_REQUEST_TYPE.get(value.strip().lower()) if isinstance(value, str) else None
    return None if pair is None else pair[0]


def _request_operation(value: AttributeValue) -> str | None:
    pair = _BY_REQUEST_TYPE.get(value.strip().lower()) if isinstance(value, str) else None
    return None if pair is None else pair[1]


def numbered_messages(attributes: dict[str, AttributeValue], prefix: str, role: str) -> list[Message]:
    """The canonical messages of `gen_ai.prompt.N.*` (or `gen_ai.completion.N.*`)."""
    found = []
    for entry in ordered(nest(gather(attributes, prefix))):
        if isinstance(entry, dict):
            built = message_of(entry, role=role)
            if built is not None:
                found.append(built)
    return found


# (prompt prefix, completion prefix), the gen_ai.* spelling first
_NUMBERED = (
    (sc.GEN_AI_PROMPT_PREFIX, sc.GEN_AI_COMPLETION_PREFIX),
    (sc.LLM_PROMPTS_PREFIX, sc.LLM_COMPLETIONS_PREFIX),
)


def content(span: SpanView, found: dict[str, object]) -> None:
    """input_text / output_text (and finish reasons) from the numbered prompt and completion lists."""
    for prompt_prefix, completion_prefix in _NUMBERED:
        _numbered_content(span.attributes, found, prompt_prefix, completion_prefix)


def _numbered_content(
    attributes: dict[str, AttributeValue],
    found: dict[str, object],
    prompt_prefix: str,
    completion_prefix: str,
) -> None:
    if sc.INPUT_TEXT not in found:
        prompts = numbered_messages(attributes, prompt_prefix, "user")
        if prompts:
            found[sc.INPUT_TEXT] = messages_json(prompts)
    if sc.OUTPUT_TEXT in found and sc.FINISH_REASONS in found:
        return
    completions = numbered_messages(attributes, completion_prefix, "assistant")
    if not completions:
        return
    if sc.OUTPUT_TEXT not in found:
        found[sc.OUTPUT_TEXT] = messages_json(completions)
    if sc.FINISH_REASONS not in found:
        reasons = [str(m[sc.MESSAGE_FINISH_REASON]) for m in completions if sc.MESSAGE_FINISH_REASON in m]
        if reasons:
            found[sc.FINISH_REASONS] = reasons


OPENLLMETRY = Dialect(
    "openllmetry",
    reads=(
        Read(sc.KIND, sc.LLM_REQUEST_TYPE, _request_kind),
        Read(sc.KIND, sc.TRACELOOP_SPAN_KIND, _traceloop_kind),
        Read(sc.OPERATION, sc.LLM_REQUEST_TYPE, _request_operation),
        Read(sc.PROVIDER, sc.LLM_VENDOR, as_provider),
        Read(sc.REQUEST_MODEL, sc.LLM_REQUEST_MODEL, as_text),
        Read(sc.RESPONSE_MODEL, sc.LLM_RESPONSE_MODEL, as_text),
        Read(sc.INPUT_TOKENS, sc.LLM_USAGE_PROMPT_TOKENS, as_count),
        Read(sc.OUTPUT_TOKENS, sc.LLM_USAGE_COMPLETION_TOKENS, as_count),
        Read(sc.TOTAL_TOKENS, sc.LLM_USAGE_TOTAL_TOKENS, as_count),
        Read(sc.CACHED_INPUT_TOKENS, sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS_OLD, as_count),
        Read(sc.CACHE_WRITE_INPUT_TOKENS, sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS_OLD, as_count),
        Read(sc.REASONING_TOKENS, sc.GEN_AI_USAGE_REASONING_TOKENS_OLD, as_count),
        Read(sc.REASONING_TOKENS, sc.LLM_USAGE_REASONING_TOKENS, as_count),
        Read(sc.IS_STREAMING, sc.GEN_AI_IS_STREAMING, as_flag),
        Read(sc.IS_STREAMING, sc.LLM_IS_STREAMING, as_flag),
        Read(sc.SESSION, sc.TRACELOOP_SESSION_ID, as_text),
        Read(sc.USER, sc.TRACELOOP_USER_ID, as_text),
        Read(sc.INPUT_TEXT, sc.TRACELOOP_ENTITY_INPUT, as_text),
        Read(sc.OUTPUT_TEXT, sc.TRACELOOP_ENTITY_OUTPUT, as_text),
    ),
    derivers=(GatedDeriver(content, prefixes=tuple(prefix for pair in _NUMBERED for prefix in pair)),),
)
