"""OpenAI chat completions (`chat.completions.create` / `.parse`, and `.stream`, which calls `create`).

Reads the request's parameters, messages and tools, the `ChatCompletion` (or the chunks of a stream)
and its usage: `prompt_tokens` (cached included), `prompt_tokens_details.cached_tokens`,
`completion_tokens_details.reasoning_tokens`. A stream without `stream_options.include_usage` has
no usage chunk: its tokens are estimated locally, and the request is never changed to get one.
"""

from __future__ import annotations

import time
from typing import Any

from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.completion_usage import CompletionUsage

from tokentrail import semconv
from tokentrail.instrumentation._call import Kwargs, LLMCall
from tokentrail.instrumentation._parts import (
    Message,
    Part,
    field,
    image_part,
    listed,
    message,
    messages_text,
    plain,
    plain_part,
    text_part,
    tool_call_part,
    tool_definition,
    tool_response_part,
)

PARAMETERS = {
    "temperature": semconv.GEN_AI_REQUEST_TEMPERATURE,
    "top_p": semconv.GEN_AI_REQUEST_TOP_P,
    "max_tokens": semconv.GEN_AI_REQUEST_MAX_TOKENS,
    "max_completion_tokens": semconv.GEN_AI_REQUEST_MAX_TOKENS,
    "frequency_penalty": semconv.GEN_AI_REQUEST_FREQUENCY_PENALTY,
    "presence_penalty": semconv.GEN_AI_REQUEST_PRESENCE_PENALTY,
    "seed": semconv.GEN_AI_REQUEST_SEED,
    "n": semconv.GEN_AI_REQUEST_CHOICE_COUNT,
}


# --- request --------------------------------------------------------------------------------------


def read_request(call: LLMCall, kwargs: Kwargs) -> None:
    call.set_params(kwargs, PARAMETERS)
    stop = kwargs.get("stop")
    if stop is not None:
        call.set_stop_sequences(stop)
    if not (call.capture or call.streaming):
        return
    messages = input_messages(kwargs.get("messages"))
    if call.streaming:
        call.input_messages = messages
    if call.capture:
        call.put(semconv.GEN_AI_INPUT_MESSAGES, messages)
        tools = listed(kwargs.get("tools"))
        if tools:
            call.put(semconv.GEN_AI_TOOL_DEFINITIONS, [tool_definition_of(tool) for tool in tools])


def input_messages(messages: object) -> list[Message]:
    return [input_message(entry) for entry in listed(messages) or ()]


def input_message(entry: object) -> Message:
    role = field(entry, "role")
    content = field(entry, "content")
    if role == "tool":
        return message(role, [tool_response_part(field(entry, "tool_call_id"), plain(content))])
    parts = content_parts(content)
    for tool_call in listed(field(entry, "tool_calls")) or ():
        function = field(tool_call, "function")
        parts.append(
            tool_call_part(field(tool_call, "id"), field(function, "name"), field(function, "arguments"))
        )
    function_call = field(entry, "function_call")  # the deprecated single-function form
    if function_call is not None:
        parts.append(tool_call_part(None, field(function_call, "name"), field(function_call, "arguments")))
    return message(role, parts)


def content_parts(content: object) -> list[Part]:
    if content is None:
        return []
    if isinstance(content, str):
        return [text_part(content)]
    parts: list[Part] = []
    for block in listed(content) or ():
        kind = field(block, "type")
        if kind == "text":
            parts.append(text_part(field(block, "text")))
        elif kind == "refusal":
            parts.append(text_part(field(block, "refusal")))
        elif kind == "image_url":
            parts.append(image_part(field(field(block, "image_url"), "url")))
        else:
            parts.append(plain_part(block))
    return parts


def tool_definition_of(tool: object) -> dict[str, Any]:
    kind = field(tool, "type")
    spec = field(tool, kind) if isinstance(kind, str) else None  # {"type": "function", "function": {...}}
    if spec is None:
        return tool_definition(
            kind, field(tool, "name"), field(tool, "description"), field(tool, "parameters")
        )
    return tool_definition(kind, field(spec, "name"), field(spec, "description"), field(spec, "parameters"))


# --- result ---------------------------------------------------------------------------------------


def read_result(call: LLMCall, result: Any) -> None:
    if not isinstance(result, ChatCompletion):  # e.g. `with_raw_response`: the raw HTTP response
        return
    call.set(semconv.GEN_AI_RESPONSE_ID, result.id)
    call.set(semconv.GEN_AI_RESPONSE_MODEL, result.model)
    choices = result.choices
    reasons = tuple(choice.finish_reason for choice in choices if choice.finish_reason)
    if reasons:
        call.set(semconv.GEN_AI_RESPONSE_FINISH_REASONS, reasons)
    set_usage(call, result.usage)
    if call.capture:
        call.put(semconv.GEN_AI_OUTPUT_MESSAGES, [output_message(choice) for choice in choices])


def output_message(choice: Any) -> Message:
    answer = choice.message
    parts = [text_part(answer.content)] if answer.content else []
    if answer.refusal:
        parts.append(text_part(answer.refusal))
    for tool_call in answer.tool_calls or ():
        function = getattr(tool_call, "function", None)
        if function is not None:
            parts.append(tool_call_part(tool_call.id, function.name, function.arguments))
        else:  # a custom tool call
            parts.append(plain_part(tool_call))
    return message(answer.role, parts, choice.finish_reason)


def set_usage(call: LLMCall, usage: CompletionUsage | None) -> None:
    if usage is None:
        return
    prompt_details = usage.prompt_tokens_details
    completion_details = usage.completion_tokens_details
    call.set_usage(
        usage.prompt_tokens,
        usage.completion_tokens,
        cache_read=prompt_details.cached_tokens if prompt_details is not None else None,
        cache_creation=getattr(prompt_details, "cache_write_tokens", None),
        reasoning=completion_details.reasoning_tokens if completion_details is not None else None,
        total=usage.total_tokens,
    )


# --- stream ---------------------------------------------------------------------------------------


class _ToolCall:
    __slots__ = ("id", "name", "arguments")

    def __init__(self) -> None:
        self.id: str | None = None
        self.name: str | None = None
        self.arguments: list[str] = []


class _Choice:
    __slots__ = ("text", "tool_calls", "finish_reason", "role")

    def __init__(self) -> None:
        self.text: list[str] = []
        self.tool_calls: dict[int, _ToolCall] = {}
        self.finish_reason: str | None = None
        self.role = "assistant"


class ChunkAccumulator:
    """What a chat-completions stream said, chunk by chunk (kept lean: `add` runs for every chunk)."""

    __slots__ = ("first_chunk_ns", "first_token_ns", "id", "model", "usage", "choices")

    def __init__(self, call: LLMCall) -> None:
        self.first_chunk_ns: int | None = None
        self.first_token_ns: int | None = None
        self.id: str | None = None
        self.model: str | None = None
        self.usage: CompletionUsage | None = None
        self.choices: dict[int, _Choice] = {}

    def add(self, chunk: ChatCompletionChunk) -> None:
        if self.first_chunk_ns is None:
            self.first_chunk_ns = time.time_ns()
            self.id = chunk.id
            self.model = chunk.model
        usage = chunk.usage
        if usage is not None:
            self.usage = usage
        for choice in chunk.choices:
            state = self.choices.get(choice.index)
            if state is None:
                state = self.choices[choice.index] = _Choice()
            delta = choice.delta
            content = delta.content
            if content:
                state.text.append(content)
                if self.first_token_ns is None:
                    self.first_token_ns = time.time_ns()
            if delta.tool_calls:
                if self.first_token_ns is None:
                    self.first_token_ns = time.time_ns()
                for fragment in delta.tool_calls:
                    self._add_tool_call(state, fragment)
            if choice.finish_reason:
                state.finish_reason = choice.finish_reason

    @staticmethod
    def _add_tool_call(state: _Choice, fragment: Any) -> None:
        tool_call = state.tool_calls.get(fragment.index)
        if tool_call is None:
            tool_call = state.tool_calls[fragment.index] = _ToolCall()
        if fragment.id:
            tool_call.id = fragment.id
        function = fragment.function
        if function is not None:
            if function.name:
                tool_call.name = function.name
            if function.arguments:
                tool_call.arguments.append(function.arguments)

    def record(self, call: LLMCall) -> None:
        call.set(semconv.GEN_AI_RESPONSE_ID, self.id)
        call.set(semconv.GEN_AI_RESPONSE_MODEL, self.model)
        call.first_token_ns = self.first_token_ns
        call.set_time_to_first_token(self.first_chunk_ns)
        choices = [self.choices[index] for index in sorted(self.choices)]
        reasons = tuple(choice.finish_reason for choice in choices if choice.finish_reason)
        if reasons:
            call.set(semconv.GEN_AI_RESPONSE_FINISH_REASONS, reasons)
        messages = [self._message(choice) for choice in choices]
        if self.usage is not None:
            set_usage(call, self.usage)
        else:
            call.set_estimated_usage(messages_text(messages))
        if call.capture:
            call.put(semconv.GEN_AI_OUTPUT_MESSAGES, messages)

    @staticmethod
    def _message(choice: _Choice) -> Message:
        parts = [text_part("".join(choice.text))] if choice.text else []
        for index in sorted(choice.tool_calls):
            tool_call = choice.tool_calls[index]
            parts.append(tool_call_part(tool_call.id, tool_call.name, "".join(tool_call.arguments)))
        return message(choice.role, parts, choice.finish_reason)
