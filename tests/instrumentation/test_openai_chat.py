"""OpenAI chat completions through the real client: one span per call with the GenAI attributes."""

from __future__ import annotations

import openai
import pytest

import tokentrail
from tests.instrumentation.helpers import (
    QUESTION,
    WEATHER_TOOL,
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
from tokentrail.semconv import SpanKind

pytestmark = pytest.mark.usefixtures("instrumented")

MODEL = "gpt-4o-mini"
USAGE = Usage(input_tokens=120, output_tokens=30, cached_tokens=64, reasoning_tokens=7)


def assert_chat_span(span: object, *, streaming: bool) -> dict[str, object]:
    values = attrs(span)  # type: ignore[arg-type]
    assert span.name == f"chat {MODEL}"  # type: ignore[attr-defined]
    assert values[sc.TT_SPAN_KIND] == SpanKind.LLM.value
    assert values[sc.GEN_AI_PROVIDER_NAME] == "openai"
    assert values[sc.GEN_AI_OPERATION_NAME] == "chat"
    assert values[sc.GEN_AI_REQUEST_MODEL] == MODEL
    assert values[sc.TT_IS_STREAMING] is streaming
    assert values[sc.GEN_AI_REQUEST_TEMPERATURE] == 0.2
    assert values[sc.GEN_AI_REQUEST_MAX_TOKENS] == 128
    assert values[sc.GEN_AI_REQUEST_TOP_P] == 0.9
    assert values[sc.GEN_AI_REQUEST_SEED] == 42
    assert values[sc.GEN_AI_REQUEST_STOP_SEQUENCES] == ("END",)
    assert values[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert str(values[sc.GEN_AI_RESPONSE_ID]).startswith("chatcmpl-")
    assert texts(content(span, sc.GEN_AI_INPUT_MESSAGES)) == [  # type: ignore[arg-type]
        ("system", "Answer briefly."),
        ("user", "How do I reset my password?"),
    ]
    output = content(span, sc.GEN_AI_OUTPUT_MESSAGES)  # type: ignore[arg-type]
    assert output[0]["role"] == "assistant" and output[0]["finish_reason"] == "stop"
    assert output[0]["parts"][0]["content"].strip()
    return values


def assert_scripted_usage(values: dict[str, object]) -> None:
    assert values[sc.GEN_AI_USAGE_INPUT_TOKENS] == 120
    assert values[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 30
    assert values[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 64
    assert values[sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 7
    assert values[sc.GEN_AI_USAGE_TOTAL_TOKENS] == 150
    assert sc.TT_TOKENS_ESTIMATED not in values


PARAMS = {"temperature": 0.2, "max_tokens": 128, "top_p": 0.9, "seed": 42, "stop": "END"}


def test_chat_sync(openai_client: openai.OpenAI, provider: object, traced: Finished) -> None:
    provider.script(Reply(usage=USAGE))  # type: ignore[attr-defined]
    response = openai_client.chat.completions.create(model=MODEL, messages=QUESTION, **PARAMS)
    span = one_llm_span(traced)
    values = assert_chat_span(span, streaming=False)
    assert values[sc.GEN_AI_RESPONSE_MODEL] == response.model == "gpt-4o-mini-2024-07-18"
    assert (
        content(span, sc.GEN_AI_OUTPUT_MESSAGES)[0]["parts"][0]["content"]
        == response.choices[0].message.content
    )
    assert_scripted_usage(values)
    assert sc.TT_TIME_TO_FIRST_TOKEN_MS not in values


def test_chat_sync_stream_with_usage(
    openai_client: openai.OpenAI, provider: object, traced: Finished
) -> None:
    provider.script(Reply(usage=USAGE))  # type: ignore[attr-defined]
    stream = openai_client.chat.completions.create(
        model=MODEL, messages=QUESTION, stream=True, stream_options={"include_usage": True}, **PARAMS
    )
    assert isinstance(stream, openai.Stream)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    span = one_llm_span(traced)
    values = assert_chat_span(span, streaming=True)
    assert content(span, sc.GEN_AI_OUTPUT_MESSAGES)[0]["parts"][0]["content"] == text
    assert_scripted_usage(values)
    assert 0 <= values[sc.TT_TIME_TO_FIRST_TOKEN_MS] <= (span.end_time - span.start_time) / 1e6  # type: ignore[operator]


async def test_chat_async(
    async_openai_client: openai.AsyncOpenAI, provider: object, traced: Finished
) -> None:
    provider.script(Reply(usage=USAGE))  # type: ignore[attr-defined]
    await async_openai_client.chat.completions.create(model=MODEL, messages=QUESTION, **PARAMS)
    values = assert_chat_span(one_llm_span(traced), streaming=False)
    assert_scripted_usage(values)


async def test_chat_async_stream(
    async_openai_client: openai.AsyncOpenAI, provider: object, traced: Finished
) -> None:
    provider.script(Reply(usage=USAGE))  # type: ignore[attr-defined]
    stream = await async_openai_client.chat.completions.create(
        model=MODEL, messages=QUESTION, stream=True, stream_options={"include_usage": True}, **PARAMS
    )
    assert isinstance(stream, openai.AsyncStream)
    async with stream:
        chunks = [chunk async for chunk in stream]
    assert chunks[-1].usage is not None
    values = assert_chat_span(one_llm_span(traced), streaming=True)
    assert_scripted_usage(values)
    assert values[sc.TT_TIME_TO_FIRST_TOKEN_MS] >= 0  # type: ignore[operator]


def test_stream_without_usage_is_estimated_and_request_unchanged(
    openai_client: openai.OpenAI, provider: object, traced: Finished
) -> None:
    chunks = list(openai_client.chat.completions.create(model=MODEL, messages=QUESTION, stream=True))
    assert all(chunk.usage is None for chunk in chunks)
    values = attrs(one_llm_span(traced))
    assert values[sc.TT_TOKENS_ESTIMATED] is True
    assert values[sc.GEN_AI_USAGE_INPUT_TOKENS] > 0  # type: ignore[operator]
    assert values[sc.GEN_AI_USAGE_OUTPUT_TOKENS] > 0  # type: ignore[operator]
    sent = provider.requests[-1].body  # type: ignore[attr-defined]
    assert "stream_options" not in sent  # usage is never asked for on the caller's behalf


@pytest.mark.parametrize("streaming", [False, True])
def test_tool_calls_and_definitions(
    openai_client: openai.OpenAI, provider: object, traced: Finished, streaming: bool
) -> None:
    provider.script(Reply(tool_calls=(ToolCall("get_weather", {"city": "Paris"}, id="call_9"),)))  # type: ignore[attr-defined]
    history = [
        *QUESTION,
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "rain, 4 C"},
    ]
    result = openai_client.chat.completions.create(
        model=MODEL, messages=history, tools=[WEATHER_TOOL], stream=streaming
    )
    if streaming:
        list(result)  # type: ignore[arg-type]
    span = one_llm_span(traced)
    assert content(span, sc.GEN_AI_TOOL_DEFINITIONS) == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        }
    ]
    sent = content(span, sc.GEN_AI_INPUT_MESSAGES)
    assert tool_calls(sent) == [("call_1", "get_weather", {"city": "Oslo"})]
    assert sent[-1] == {
        "role": "tool",
        "parts": [{"type": "tool_call_response", "id": "call_1", "response": "rain, 4 C"}],
    }
    output = content(span, sc.GEN_AI_OUTPUT_MESSAGES)
    assert tool_calls(output) == [("call_9", "get_weather", {"city": "Paris"})]
    assert output[0]["finish_reason"] == "tool_calls"
    assert attrs(span)[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_calls",)


def test_streamed_chunks_are_identical_to_uninstrumented(
    openai_client: openai.OpenAI, provider: object, traced: Finished
) -> None:
    def run() -> tuple[list[type], list[dict[str, object]]]:
        reply = Reply(tool_calls=(ToolCall("get_weather", {"city": "Paris"}),), text="Let me check.")
        provider.script(reply)  # type: ignore[attr-defined]
        stream = openai_client.chat.completions.create(
            model=MODEL, messages=QUESTION, stream=True, stream_options={"include_usage": True}
        )
        chunks = list(stream)
        return [type(chunk) for chunk in chunks], [chunk.model_dump() for chunk in chunks]

    tokentrail.uninstrument()
    plain = run()
    assert llm_spans(traced()) == []
    tokentrail.instrument("openai")
    observed = run()
    assert observed == plain
    assert len(plain[1]) > 5
    one_llm_span(traced)


def test_stream_helper_is_traced_once(openai_client: openai.OpenAI, traced: Finished) -> None:
    with openai_client.chat.completions.stream(model=MODEL, messages=QUESTION) as stream:
        for _ in stream:
            pass
        final = stream.get_final_completion()
    span = one_llm_span(traced)
    assert attrs(span)[sc.TT_IS_STREAMING] is True
    assert (
        content(span, sc.GEN_AI_OUTPUT_MESSAGES)[0]["parts"][0]["content"] == final.choices[0].message.content
    )


def test_parse_is_traced(openai_client: openai.OpenAI, traced: Finished) -> None:
    openai_client.chat.completions.parse(model=MODEL, messages=QUESTION)
    assert attrs(one_llm_span(traced))[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)


def test_raw_response_still_traced(openai_client: openai.OpenAI, traced: Finished) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(model=MODEL, messages=QUESTION)
    assert raw.parse().choices[0].message.content
    values = attrs(one_llm_span(traced))
    assert values[sc.GEN_AI_REQUEST_MODEL] == MODEL  # the raw HTTP response is not read
