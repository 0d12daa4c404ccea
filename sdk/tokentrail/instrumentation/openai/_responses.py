"""OpenAI's responses API (`responses.create` / `.parse`, and `.stream`, which calls `create`).

The request's `instructions` become `gen_ai.system_instructions`, its `input` (text or items) the
input messages; the `Response` (or, streamed, the one in `response.completed`) gives the output
items, usage (`input_tokens_details.cached_tokens`, `output_tokens_details.reasoning_tokens`) and
status. The API has no finish reason: one is derived from the status, as OpenTelemetry names them.
"""

from __future__ import annotations

import time
from typing import Any

from openai.types.responses import Response

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
    reasoning_part,
    text_part,
    tool_call_part,
    tool_definition,
    tool_response_part,
)

PARAMETERS = {
    "temperature": semconv.GEN_AI_REQUEST_TEMPERATURE,
    "top_p": semconv.GEN_AI_REQUEST_TOP_P,
    "max_output_tokens": semconv.GEN_AI_REQUEST_MAX_TOKENS,
}
_FINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})
_OUTPUT_DELTAS = frozenset(
    {
        "response.output_text.delta",
        "response.refusal.delta",
        "response.function_call_arguments.delta",
        "response.reasoning_summary_text.delta",
        "response.reasoning_text.delta",
    }
)


# --- request --------------------------------------------------------------------------------------


def read_request(call: LLMCall, kwargs: Kwargs) -> None:
    call.set_params(kwargs, PARAMETERS)
    if not (call.capture or call.streaming):
        return
    messages = input_messages(kwargs.get("input"))
    instructions = kwargs.get("instructions")
    if call.streaming:
        call.input_messages = messages
    if call.capture:
        if isinstance(instructions, str):
            call.put(semconv.GEN_AI_SYSTEM_INSTRUCTIONS, [text_part(instructions)])
        call.put(semconv.GEN_AI_INPUT_MESSAGES, messages)
        tools = listed(kwargs.get("tools"))
        if tools:
            call.put(semconv.GEN_AI_TOOL_DEFINITIONS, [tool_definition_of(tool) for tool in tools])


def input_messages(value: object) -> list[Message]:
    if isinstance(value, str):
        return [message("user", [text_part(value)])]
    return [input_message(item) for item in listed(value) or ()]


def input_message(item: object) -> Message:
    kind = field(item, "type")
    if kind == "function_call":
        return message(
            "assistant",
            [tool_call_part(field(item, "call_id"), field(item, "name"), field(item, "arguments"))],
        )
    if kind == "function_call_output":
        return message("tool", [tool_response_part(field(item, "call_id"), plain(field(item, "output")))])
    role = field(item, "role")
    if role is not None:
        return message(role, content_parts(field(item, "content")))
    return message("user", [plain_part(item)])


def content_parts(content: object) -> list[Part]:
    if isinstance(content, str):
        return [text_part(content)]
    parts: list[Part] = []
    for block in listed(content) or ():
        kind = field(block, "type")
        if kind in ("input_text", "output_text"):
            parts.append(text_part(field(block, "text")))
        elif kind == "refusal":
            parts.append(text_part(field(block, "refusal")))
        elif kind == "input_image" and field(block, "image_url"):
            parts.append(image_part(field(block, "image_url")))
        else:
            parts.append(plain_part(block))
    return parts


def tool_definition_of(tool: object) -> dict[str, Any]:
    return tool_definition(
        field(tool, "type"), field(tool, "name"), field(tool, "description"), field(tool, "parameters")
    )


# --- result ---------------------------------------------------------------------------------------


def read_result(call: LLMCall, result: Any) -> None:
    if isinstance(result, Response):
        record_response(call, result)


def record_response(call: LLMCall, response: Response) -> None:
    call.set(semconv.GEN_AI_RESPONSE_ID, response.id)
    call.set(semconv.GEN_AI_RESPONSE_MODEL, response.model)
    output = response.output or []
    reason = finish_reason(response, output)
    call.set(semconv.GEN_AI_RESPONSE_FINISH_REASONS, (reason,))
    usage = response.usage
    if usage is not None:
        input_details = usage.input_tokens_details
        output_details = usage.output_tokens_details
        call.set_usage(
            usage.input_tokens,
            usage.output_tokens,
            cache_read=getattr(input_details, "cached_tokens", None),
            cache_creation=getattr(input_details, "cache_write_tokens", None),
            reasoning=getattr(output_details, "reasoning_tokens", None),
            total=usage.total_tokens,
        )
    if call.capture:
        call.put(semconv.GEN_AI_OUTPUT_MESSAGES, [message("assistant", output_parts(output), reason)])


def finish_reason(response: Response, output: list[Any]) -> str:
    status = response.status
    if status == "incomplete":
        details = response.incomplete_details
        return "length" if details is not None and details.reason == "max_output_tokens" else "incomplete"
    if status == "failed":
        return "error"
    if any(getattr(item, "type", None) == "function_call" for item in output):
        return "tool_call"
    return "stop" if status in (None, "completed") else str(status)


def output_parts(output: list[Any]) -> list[Part]:
    parts: list[Part] = []
    for item in output:
        kind = getattr(item, "type", None)
        if kind == "message":
            for block in item.content:
                text = getattr(block, "text", None) or getattr(block, "refusal", None)
                parts.append(text_part(text) if isinstance(text, str) else plain_part(block))
        elif kind == "function_call":
            parts.append(tool_call_part(item.call_id, item.name, item.arguments))
        elif kind == "reasoning":
            summary = "\n".join(getattr(entry, "text", "") for entry in item.summary or ())
            if summary:
                parts.append(reasoning_part(summary))
        else:
            parts.append(plain_part(item))
    return parts


# --- stream ---------------------------------------------------------------------------------------


class EventAccumulator:
    """What a responses stream said: the final response, or what arrived before the stream broke."""

    __slots__ = ("call", "first_event_ns", "started", "final", "text")

    def __init__(self, call: LLMCall) -> None:
        self.call = call
        self.first_event_ns: int | None = None
        self.started: Response | None = None
        self.final: Response | None = None
        self.text: list[str] = []

    def add(self, event: Any) -> None:
        if self.first_event_ns is None:
            self.first_event_ns = time.time_ns()
        kind = event.type
        if kind in _OUTPUT_DELTAS:
            self.call.first_token()
            self.text.append(event.delta)
        elif kind in _FINAL_EVENTS:
            self.final = event.response
        elif kind == "response.created":
            self.started = event.response

    def record(self, call: LLMCall) -> None:
        call.set_time_to_first_token(self.first_event_ns)
        if self.final is not None:
            record_response(call, self.final)
            if self.final.usage is not None:
                return
        elif self.started is not None:
            call.set(semconv.GEN_AI_RESPONSE_ID, self.started.id)
            call.set(semconv.GEN_AI_RESPONSE_MODEL, self.started.model)
        partial = [message("assistant", [text_part("".join(self.text))])] if self.text else []
        if self.final is None and call.capture and partial:
            call.put(semconv.GEN_AI_OUTPUT_MESSAGES, partial)
        call.set_estimated_usage(messages_text(partial))
