"""Anthropic messages (`messages.create` / `.parse`, and the `messages.stream(...)` helper).

Reads the request's parameters, `system` (as `gen_ai.system_instructions`), messages and tools, the
`Message` (or the raw stream events) and its usage. Anthropic's `input_tokens` leaves out the cached
and cache-written input; `gen_ai.usage.input_tokens` includes them, as OpenTelemetry defines it.
The `MessageStream` proxies also route `text_stream`, `until_done()` and `get_final_*()` through
themselves, since the library's own versions iterate the unwrapped stream.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from anthropic.types import Message

from tokentrail import semconv
from tokentrail.instrumentation._call import Accumulator, Kwargs, LLMCall
from tokentrail.instrumentation._parts import (
    Message as GenAiMessage,
)
from tokentrail.instrumentation._parts import (
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
from tokentrail.instrumentation._streams import AsyncStreamProxy, StreamProxy

PARAMETERS = {
    "max_tokens": semconv.GEN_AI_REQUEST_MAX_TOKENS,
    "temperature": semconv.GEN_AI_REQUEST_TEMPERATURE,
    "top_p": semconv.GEN_AI_REQUEST_TOP_P,
    "top_k": semconv.GEN_AI_REQUEST_TOP_K,
}


# --- request --------------------------------------------------------------------------------------


def read_request(call: LLMCall, kwargs: Kwargs) -> None:
    call.set_params(kwargs, PARAMETERS)
    stop = kwargs.get("stop_sequences")
    if stop is not None:
        call.set_stop_sequences(stop)
    if not (call.capture or call.streaming):
        return
    messages = [
        message(field(entry, "role"), block_parts(field(entry, "content")))
        for entry in listed(kwargs.get("messages")) or ()
    ]
    if call.streaming:
        call.input_messages = messages
    if call.capture:
        system = kwargs.get("system")
        if isinstance(system, (str, list, tuple)):
            call.put(semconv.GEN_AI_SYSTEM_INSTRUCTIONS, block_parts(system))
        call.put(semconv.GEN_AI_INPUT_MESSAGES, messages)
        tools = listed(kwargs.get("tools"))
        if tools:
            call.put(semconv.GEN_AI_TOOL_DEFINITIONS, [tool_definition_of(tool) for tool in tools])


def block_parts(content: object) -> list[Part]:
    """Parts of Anthropic content: text, or a list of blocks (request dicts or response models)."""
    if isinstance(content, str):
        return [text_part(content)]
    parts: list[Part] = []
    for block in listed(content) or ():
        kind = field(block, "type")
        if kind == "text":
            parts.append(text_part(field(block, "text")))
        elif kind == "tool_use":
            parts.append(
                tool_call_part(field(block, "id"), field(block, "name"), plain(field(block, "input")))
            )
        elif kind == "tool_result":
            parts.append(tool_response_part(field(block, "tool_use_id"), plain(field(block, "content"))))
        elif kind == "thinking":
            parts.append(reasoning_part(field(block, "thinking")))
        elif kind == "image" and field(field(block, "source"), "type") == "url":
            parts.append(image_part(field(field(block, "source"), "url")))
        else:
            parts.append(plain_part(block))
    return parts


def tool_definition_of(tool: object) -> dict[str, Any]:
    kind = field(tool, "type") or "function"  # custom tools may leave the type out
    return tool_definition(kind, field(tool, "name"), field(tool, "description"), field(tool, "input_schema"))


# --- result ---------------------------------------------------------------------------------------


def read_result(call: LLMCall, result: Any) -> None:
    if not isinstance(result, Message):
        return
    call.set(semconv.GEN_AI_RESPONSE_ID, result.id)
    call.set(semconv.GEN_AI_RESPONSE_MODEL, result.model)
    if result.stop_reason:
        call.set(semconv.GEN_AI_RESPONSE_FINISH_REASONS, (result.stop_reason,))
    set_usage(call, result.usage, result.usage)
    if call.capture:
        call.put(
            semconv.GEN_AI_OUTPUT_MESSAGES,
            [message(result.role, block_parts(result.content), result.stop_reason)],
        )


def set_usage(call: LLMCall, start: Any, final: Any) -> None:
    """Usage from `message_start` (`start`) updated by `message_delta` (`final`); the same object unstreamed."""

    def latest(name: str) -> int | None:
        value = getattr(final, name, None)
        return value if value is not None else getattr(start, name, None)

    uncached = latest("input_tokens")
    cache_read = latest("cache_read_input_tokens")
    cache_creation = latest("cache_creation_input_tokens")
    details = getattr(final, "output_tokens_details", None)
    input_tokens = None if uncached is None else uncached + (cache_read or 0) + (cache_creation or 0)
    call.set_usage(
        input_tokens,
        latest("output_tokens"),
        cache_read=cache_read,
        cache_creation=cache_creation,
        reasoning=getattr(details, "thinking_tokens", None),
    )


# --- stream ---------------------------------------------------------------------------------------


_PIECES = {"text_delta": "text", "input_json_delta": "partial_json", "thinking_delta": "thinking"}


class _Block:
    """One content block of a streamed message, built from its start event and deltas."""

    __slots__ = ("block", "pieces")

    def __init__(self, block: Any) -> None:
        self.block = block
        text = getattr(block, "text", None)
        self.pieces: list[str] = [text] if text else []

    def part(self) -> Part:
        kind = self.block.type
        joined = "".join(self.pieces)
        if kind == "text":
            return text_part(joined)
        if kind in ("tool_use", "server_tool_use"):
            return tool_call_part(self.block.id, self.block.name, joined or plain(self.block.input))
        if kind == "thinking":
            return reasoning_part(joined)
        return plain_part(self.block)


class EventAccumulator:
    """What a messages stream said, from its raw events (the helper's extra events are skipped)."""

    __slots__ = (
        "call",
        "first_event_ns",
        "id",
        "model",
        "start_usage",
        "final_usage",
        "stop_reason",
        "blocks",
    )

    def __init__(self, call: LLMCall) -> None:
        self.call = call
        self.first_event_ns: int | None = None
        self.id: str | None = None
        self.model: str | None = None
        self.start_usage: Any = None
        self.final_usage: Any = None
        self.stop_reason: str | None = None
        self.blocks: dict[int, _Block] = {}

    def add(self, event: Any) -> None:
        if self.first_event_ns is None:
            self.first_event_ns = time.time_ns()
        kind = event.type
        if kind == "content_block_delta":
            self.call.first_token()
            block = self.blocks.get(event.index)
            delta = event.delta
            field_name = _PIECES.get(delta.type)
            if block is not None and field_name is not None:
                block.pieces.append(getattr(delta, field_name))
        elif kind == "content_block_start":
            self.blocks[event.index] = _Block(event.content_block)
        elif kind == "message_start":
            started = event.message
            self.id, self.model, self.start_usage = started.id, started.model, started.usage
        elif kind == "message_delta":
            self.stop_reason = event.delta.stop_reason
            self.final_usage = event.usage

    def record(self, call: LLMCall) -> None:
        call.set(semconv.GEN_AI_RESPONSE_ID, self.id)
        call.set(semconv.GEN_AI_RESPONSE_MODEL, self.model)
        call.set_time_to_first_token(self.first_event_ns)
        if self.stop_reason:
            call.set(semconv.GEN_AI_RESPONSE_FINISH_REASONS, (self.stop_reason,))
        parts = [self.blocks[index].part() for index in sorted(self.blocks)]
        messages: list[GenAiMessage] = (
            [message("assistant", parts, self.stop_reason)] if parts or self.stop_reason else []
        )
        if self.final_usage is not None:
            set_usage(call, self.start_usage, self.final_usage)
        else:  # cut before `message_delta`: the output count is not known
            known_input = getattr(self.start_usage, "input_tokens", None)
            if known_input is not None:
                known_input += (getattr(self.start_usage, "cache_read_input_tokens", None) or 0) + (
                    getattr(self.start_usage, "cache_creation_input_tokens", None) or 0
                )
            call.set_estimated_usage(messages_text(messages), input_tokens=known_input)
        if call.capture and messages:
            call.put(semconv.GEN_AI_OUTPUT_MESSAGES, messages)


# --- the `messages.stream(...)` helper's streams --------------------------------------------------


class MessageStreamProxy(StreamProxy):
    """`MessageStream`: its iteration helpers consume through the proxy so the span sees every event."""

    def __init__(self, stream: Any, call: LLMCall, accumulator: Accumulator) -> None:
        super().__init__(stream, call, accumulator)
        self._self_text_stream: Iterator[str] | None = None

    @property
    def text_stream(self) -> Iterator[str]:
        if self._self_text_stream is None:
            self._self_text_stream = _text_deltas(self)
        return self._self_text_stream

    def until_done(self) -> None:
        for _ in self:
            pass

    def get_final_message(self) -> Any:
        self.until_done()
        return self.__wrapped__.get_final_message()

    def get_final_text(self) -> str:
        self.until_done()
        return self.__wrapped__.get_final_text()  # type: ignore[no-any-return]


class AsyncMessageStreamProxy(AsyncStreamProxy):
    """`AsyncMessageStream`, as `MessageStreamProxy`."""

    def __init__(self, stream: Any, call: LLMCall, accumulator: Accumulator) -> None:
        super().__init__(stream, call, accumulator)
        self._self_text_stream: AsyncIterator[str] | None = None

    @property
    def text_stream(self) -> AsyncIterator[str]:
        if self._self_text_stream is None:
            self._self_text_stream = _async_text_deltas(self)
        return self._self_text_stream

    async def until_done(self) -> None:
        async for _ in self:
            pass

    async def get_final_message(self) -> Any:
        await self.until_done()
        return await self.__wrapped__.get_final_message()

    async def get_final_text(self) -> str:
        await self.until_done()
        return await self.__wrapped__.get_final_text()  # type: ignore[no-any-return]


def _text_deltas(stream: Iterator[Any]) -> Iterator[str]:
    for event in stream:
        if event.type == "content_block_delta" and event.delta.type == "text_delta":
            yield event.delta.text


async def _async_text_deltas(stream: AsyncIterator[Any]) -> AsyncIterator[str]:
    async for event in stream:
        if event.type == "content_block_delta" and event.delta.type == "text_delta":
            yield event.delta.text
