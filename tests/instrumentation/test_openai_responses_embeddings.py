"""OpenAI's responses API and embeddings through the real client."""

from __future__ import annotations

import openai
import pytest

from tests.instrumentation.helpers import (
    Finished,
    Reply,
    ToolCall,
    Usage,
    attrs,
    content,
    one_llm_span,
    texts,
    tool_calls,
)
from tokentrail import semconv as sc
from tokentrail.semconv import SpanKind

pytestmark = pytest.mark.usefixtures("instrumented")

MODEL = "gpt-4o-mini"
USAGE = Usage(
    input_tokens=90, output_tokens=25, cached_tokens=40, cache_creation_tokens=10, reasoning_tokens=5
)
TOOL = {
    "type": "function",
    "name": "lookup",
    "description": "Find an order",
    "parameters": {"type": "object"},
}
REQUEST = {
    "model": MODEL,
    "instructions": "Answer briefly.",
    "input": [{"role": "user", "content": [{"type": "input_text", "text": "Where is order 7?"}]}],
    "temperature": 0.3,
    "max_output_tokens": 256,
    "tools": [TOOL],
}


def assert_response_span(finished: Finished, *, streaming: bool) -> None:
    span = one_llm_span(finished)
    values = attrs(span)
    assert span.name == f"chat {MODEL}"
    assert values[sc.GEN_AI_PROVIDER_NAME] == "openai"
    assert values[sc.GEN_AI_OPERATION_NAME] == "chat"
    assert values[sc.TT_IS_STREAMING] is streaming
    assert values[sc.GEN_AI_REQUEST_TEMPERATURE] == 0.3
    assert values[sc.GEN_AI_REQUEST_MAX_TOKENS] == 256
    assert str(values[sc.GEN_AI_RESPONSE_ID]).startswith("resp_")
    assert values[sc.GEN_AI_RESPONSE_MODEL] == MODEL
    assert values[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_call",)
    assert values[sc.GEN_AI_USAGE_INPUT_TOKENS] == 90
    assert values[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 25
    assert values[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 40
    assert values[sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == 10
    assert values[sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 5
    assert sc.TT_TOKENS_ESTIMATED not in values
    assert content(span, sc.GEN_AI_SYSTEM_INSTRUCTIONS) == [{"type": "text", "content": "Answer briefly."}]
    assert texts(content(span, sc.GEN_AI_INPUT_MESSAGES)) == [("user", "Where is order 7?")]
    assert content(span, sc.GEN_AI_TOOL_DEFINITIONS) == [TOOL]
    output = content(span, sc.GEN_AI_OUTPUT_MESSAGES)
    assert texts(output) == [("assistant", "Checking.")]
    assert tool_calls(output) == [("call_7", "lookup", {"order": 7})]
    if streaming:
        assert values[sc.TT_TIME_TO_FIRST_TOKEN_MS] >= 0  # type: ignore[operator]


def script(provider: object) -> None:
    reply = Reply(text="Checking.", tool_calls=(ToolCall("lookup", {"order": 7}, id="call_7"),), usage=USAGE)
    provider.script(reply)  # type: ignore[attr-defined]


def test_responses_sync(openai_client: openai.OpenAI, provider: object, traced: Finished) -> None:
    script(provider)
    openai_client.responses.create(**REQUEST)
    assert_response_span(traced, streaming=False)


def test_responses_sync_stream(openai_client: openai.OpenAI, provider: object, traced: Finished) -> None:
    script(provider)
    with openai_client.responses.create(**REQUEST, stream=True) as stream:
        events = [event.type for event in stream]
    assert events[0] == "response.created" and events[-1] == "response.completed"
    assert_response_span(traced, streaming=True)


async def test_responses_async(
    async_openai_client: openai.AsyncOpenAI, provider: object, traced: Finished
) -> None:
    script(provider)
    await async_openai_client.responses.create(**REQUEST)
    assert_response_span(traced, streaming=False)


async def test_responses_async_stream(
    async_openai_client: openai.AsyncOpenAI, provider: object, traced: Finished
) -> None:
    script(provider)
    stream = await async_openai_client.responses.create(**REQUEST, stream=True)
    assert [event.type async for event in stream][-1] == "response.completed"
    assert_response_span(traced, streaming=True)


def test_responses_stream_helper(openai_client: openai.OpenAI, provider: object, traced: Finished) -> None:
    script(provider)
    with openai_client.responses.stream(**REQUEST) as stream:
        stream.until_done()
    assert_response_span(traced, streaming=True)


def test_responses_plain_text_input(openai_client: openai.OpenAI, traced: Finished) -> None:
    response = openai_client.responses.create(model=MODEL, input="Hello")
    span = one_llm_span(traced)
    assert texts(content(span, sc.GEN_AI_INPUT_MESSAGES)) == [("user", "Hello")]
    assert texts(content(span, sc.GEN_AI_OUTPUT_MESSAGES)) == [("assistant", response.output_text)]
    assert attrs(span)[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)


def assert_embedding_span(finished: Finished) -> None:
    span = one_llm_span(finished)
    values = attrs(span)
    assert span.name == "embeddings text-embedding-3-small"
    assert values[sc.TT_SPAN_KIND] == SpanKind.EMBEDDING.value
    assert values[sc.GEN_AI_OPERATION_NAME] == "embeddings"
    assert values[sc.GEN_AI_PROVIDER_NAME] == "openai"
    assert values[sc.GEN_AI_RESPONSE_MODEL] == "text-embedding-3-small"
    assert values[sc.GEN_AI_REQUEST_ENCODING_FORMATS] == ("float",)
    assert values[sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] == 4
    assert values[sc.GEN_AI_USAGE_INPUT_TOKENS] == 11
    assert sc.GEN_AI_INPUT_MESSAGES not in values


def test_embeddings_sync(openai_client: openai.OpenAI, provider: object, traced: Finished) -> None:
    provider.script(Reply(usage=Usage(11, 0)))  # type: ignore[attr-defined]
    result = openai_client.embeddings.create(
        model="text-embedding-3-small", input=["a", "b"], dimensions=4, encoding_format="float"
    )
    assert [len(item.embedding) for item in result.data] == [4, 4]
    assert_embedding_span(traced)


async def test_embeddings_async(
    async_openai_client: openai.AsyncOpenAI, provider: object, traced: Finished
) -> None:
    provider.script(Reply(usage=Usage(11, 0)))  # type: ignore[attr-defined]
    await async_openai_client.embeddings.create(
        model="text-embedding-3-small", input="a", dimensions=4, encoding_format="float"
    )
    assert_embedding_span(traced)


def test_embeddings_default_base64_still_decoded(openai_client: openai.OpenAI, traced: Finished) -> None:
    result = openai_client.embeddings.create(model="text-embedding-3-small", input="a")
    assert len(result.data[0].embedding) == 8
    assert sc.GEN_AI_REQUEST_ENCODING_FORMATS not in attrs(one_llm_span(traced))  # not given by the caller
