"""Anthropic messages through the real client: create (streamed or not) and the messages.stream() helper."""

from __future__ import annotations

import anthropic
import pytest

import tokentrail
from tests.instrumentation.helpers import (
    ANTHROPIC_QUESTION,
    Finished,
    Reply,
    ToolCall,
    Usage,
    attrs,
    content,
    llm_spans,
    one_llm_span,
    texts,
    tool_calls,
)
from tokentrail import semconv as sc

pytestmark = pytest.mark.usefixtures("instrumented")

MODEL = "claude-haiku-4-5"
# The whole prompt is 150 tokens: 80 read from the cache, 20 written to it, 50 neither.
USAGE = Usage(
    input_tokens=150, output_tokens=40, cached_tokens=80, cache_creation_tokens=20, reasoning_tokens=9
)
TOOL = {"name": "get_weather", "description": "Weather in a city", "input_schema": {"type": "object"}}
# anthropic 2.x has no temperature/top_p/top_k arguments any more; older releases' are read if given.
REQUEST = {
    "model": MODEL,
    "max_tokens": 300,
    "system": "Answer briefly.",
    "messages": ANTHROPIC_QUESTION,
    "stop_sequences": ["END"],
    "tools": [TOOL],
}


def script(provider: object) -> None:
    reply = Reply(
        text="Let me look.",
        tool_calls=(ToolCall("get_weather", {"city": "Oslo"}, id="toolu_1"),),
        usage=USAGE,
    )
    provider.script(reply)  # type: ignore[attr-defined]


def assert_message_span(finished: Finished, *, streaming: bool) -> None:
    span = one_llm_span(finished)
    values = attrs(span)
    assert span.name == f"chat {MODEL}"
    assert values[sc.GEN_AI_PROVIDER_NAME] == "anthropic"
    assert values[sc.GEN_AI_OPERATION_NAME] == "chat"
    assert values[sc.TT_IS_STREAMING] is streaming
    assert values[sc.GEN_AI_REQUEST_MODEL] == values[sc.GEN_AI_RESPONSE_MODEL] == MODEL
    assert values[sc.GEN_AI_REQUEST_MAX_TOKENS] == 300
    assert values[sc.GEN_AI_REQUEST_STOP_SEQUENCES] == ("END",)
    assert str(values[sc.GEN_AI_RESPONSE_ID]).startswith("msg_")
    assert values[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_use",)
    assert values[sc.GEN_AI_USAGE_INPUT_TOKENS] == 150  # cached and cache-written input included
    assert values[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 80
    assert values[sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == 20
    assert values[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 40
    assert values[sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 9
    assert sc.TT_TOKENS_ESTIMATED not in values
    assert content(span, sc.GEN_AI_SYSTEM_INSTRUCTIONS) == [{"type": "text", "content": "Answer briefly."}]
    assert texts(content(span, sc.GEN_AI_INPUT_MESSAGES)) == [("user", "How do I reset my password?")]
    assert content(span, sc.GEN_AI_TOOL_DEFINITIONS) == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Weather in a city",
            "parameters": {"type": "object"},
        }
    ]
    output = content(span, sc.GEN_AI_OUTPUT_MESSAGES)
    assert texts(output) == [("assistant", "Let me look.")]
    assert tool_calls(output) == [("toolu_1", "get_weather", {"city": "Oslo"})]
    assert output[0]["finish_reason"] == "tool_use"
    if streaming:
        assert values[sc.TT_TIME_TO_FIRST_TOKEN_MS] >= 0  # type: ignore[operator]


def test_create_sync(anthropic_client: anthropic.Anthropic, provider: object, traced: Finished) -> None:
    script(provider)
    anthropic_client.messages.create(**REQUEST)
    assert_message_span(traced, streaming=False)


def test_create_sync_stream(
    anthropic_client: anthropic.Anthropic, provider: object, traced: Finished
) -> None:
    script(provider)
    stream = anthropic_client.messages.create(**REQUEST, stream=True)
    assert isinstance(stream, anthropic.Stream)
    kinds = [event.type for event in stream]
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert_message_span(traced, streaming=True)


async def test_create_async(
    async_anthropic_client: anthropic.AsyncAnthropic, provider: object, traced: Finished
) -> None:
    script(provider)
    await async_anthropic_client.messages.create(**REQUEST)
    assert_message_span(traced, streaming=False)


async def test_create_async_stream(
    async_anthropic_client: anthropic.AsyncAnthropic, provider: object, traced: Finished
) -> None:
    script(provider)
    stream = await async_anthropic_client.messages.create(**REQUEST, stream=True)
    assert isinstance(stream, anthropic.AsyncStream)
    async with stream:
        assert [event.type async for event in stream][-1] == "message_stop"
    assert_message_span(traced, streaming=True)


def test_stream_helper_iterated(
    anthropic_client: anthropic.Anthropic, provider: object, traced: Finished
) -> None:
    script(provider)
    with anthropic_client.messages.stream(**REQUEST) as stream:
        kinds = {event.type for event in stream}
        final = stream.get_final_message()
    assert {"text", "input_json", "message_stop"} <= kinds  # the helper's own events pass through
    assert final.usage.output_tokens == 40
    assert_message_span(traced, streaming=True)


def test_stream_helper_text_stream(
    anthropic_client: anthropic.Anthropic, provider: object, traced: Finished
) -> None:
    script(provider)
    with anthropic_client.messages.stream(**REQUEST) as stream:
        text = "".join(stream.text_stream)
        assert stream.get_final_text() == text == "Let me look."
    assert_message_span(traced, streaming=True)


def test_stream_helper_final_message_only(
    anthropic_client: anthropic.Anthropic, provider: object, traced: Finished
) -> None:
    script(provider)
    with anthropic_client.messages.stream(**REQUEST) as stream:
        message = stream.get_final_message()
    assert [block.type for block in message.content] == ["text", "tool_use"]
    assert_message_span(traced, streaming=True)


async def test_async_stream_helper(
    async_anthropic_client: anthropic.AsyncAnthropic, provider: object, traced: Finished
) -> None:
    script(provider)
    async with async_anthropic_client.messages.stream(**REQUEST) as stream:
        text = "".join([piece async for piece in stream.text_stream])
        final = await stream.get_final_message()
    assert text == "Let me look."
    assert final.stop_reason == "tool_use"
    assert_message_span(traced, streaming=True)


def test_stream_helper_left_early_ends_span_once(
    anthropic_client: anthropic.Anthropic, traced: Finished
) -> None:
    with anthropic_client.messages.stream(**REQUEST) as stream:
        for event in stream:
            if event.type == "content_block_delta":
                break
    span = one_llm_span(traced)
    assert span.end_time is not None
    assert span.status.is_ok


def test_streamed_events_identical_to_uninstrumented(
    anthropic_client: anthropic.Anthropic, provider: object, traced: Finished
) -> None:
    def run() -> list[tuple[type, dict[str, object]]]:
        script(provider)
        return [
            (type(event), event.model_dump())
            for event in anthropic_client.messages.create(**REQUEST, stream=True)
        ]

    tokentrail.uninstrument()
    plain = run()
    tokentrail.instrument("anthropic")
    assert run() == plain
    one_llm_span(traced)


def test_client_span_of_anthropic_nests_under_ours(
    anthropic_client: anthropic.Anthropic, traced: Finished
) -> None:
    anthropic_client.messages.create(model=MODEL, max_tokens=50, messages=ANTHROPIC_QUESTION)
    spans = traced()
    ours = llm_spans(spans)[0]
    theirs = [span for span in spans if span is not ours]
    assert all(span.parent is not None and span.parent.span_id == ours.context.span_id for span in theirs)
