"""Error paths and early ends of the responses API, embeddings and Anthropic's streams.

Each failure is first provoked without tokentrail, so the caller is shown to get the same
exception type (and the same events before it) with and without instrumentation. The autouse
`spans_end_once` fixture fails any test in which a span was ended twice.
"""

from __future__ import annotations

import gc
from collections.abc import Awaitable
from typing import Any

import anthropic
import openai
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

import tokentrail
from tests.instrumentation.helpers import (
    ANTHROPIC_QUESTION,
    Finished,
    Reply,
    assert_closed_early,
    assert_error_span,
    async_errors_plain_then_traced,
    attrs,
    content,
    errors_plain_then_traced,
    llm_spans,
    one_llm_span,
)
from tokentrail import semconv as sc

pytestmark = pytest.mark.usefixtures("instrumented")

MODEL = "gpt-4o-mini"
ANTHROPIC_MODEL = "claude-haiku-4-5"
EMBEDDING_MODEL = "text-embedding-3-small"
OPENAI_ERRORS = {429: openai.RateLimitError, 500: openai.InternalServerError}
ANTHROPIC_ERRORS = {429: anthropic.RateLimitError, 500: anthropic.InternalServerError}
# A responses stream's first events: created, output_item.added, content_part.added, then text deltas.
BREAK_AFTER = 5


def respond(client: openai.OpenAI, **extra: Any) -> Any:
    return client.responses.create(model=MODEL, input="How do I reset my password?", **extra)


def arespond(client: openai.AsyncOpenAI, **extra: Any) -> Awaitable[Any]:
    return client.responses.create(model=MODEL, input="How do I reset my password?", **extra)


def deltas(events: list[Any]) -> str:
    return "".join(event.delta for event in events if event.type == "response.output_text.delta")


def assert_partial_response(span: ReadableSpan, events: list[Any]) -> None:
    """The span holds what the caller received before the stream ended: id, model, text, estimate."""
    values = attrs(span)
    assert values[sc.GEN_AI_RESPONSE_ID] == events[0].response.id
    assert values[sc.GEN_AI_RESPONSE_MODEL] == MODEL
    assert values[sc.TT_IS_STREAMING] is True
    assert values[sc.TT_TOKENS_ESTIMATED] is True
    assert deltas(events)  # something was received, and the span says what
    assert content(span, sc.GEN_AI_OUTPUT_MESSAGES)[0]["parts"][0]["content"] == deltas(events)


# --- responses.create: HTTP errors ----------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500])
@pytest.mark.parametrize("streaming", [False, True])
def test_responses_http_error(
    openai_client: openai.OpenAI, provider: Any, traced: Finished, status: int, streaming: bool
) -> None:
    error, expected = errors_plain_then_traced(
        provider,
        Reply(status=status, error_message="slow down"),
        lambda: respond(openai_client, stream=streaming),
    )
    assert type(error) is type(expected) is OPENAI_ERRORS[status]
    assert error.status_code == status  # type: ignore[attr-defined]
    assert "slow down" in str(error)
    span = one_llm_span(traced)
    assert_error_span(span, error, status)
    assert attrs(span)[sc.TT_IS_STREAMING] is streaming


@pytest.mark.parametrize("status", [429, 500])
@pytest.mark.parametrize("streaming", [False, True])
async def test_responses_http_error_async(
    async_openai_client: openai.AsyncOpenAI, provider: Any, traced: Finished, status: int, streaming: bool
) -> None:
    error, expected = await async_errors_plain_then_traced(
        provider, Reply(status=status), lambda: arespond(async_openai_client, stream=streaming)
    )
    assert type(error) is type(expected) is OPENAI_ERRORS[status]
    assert_error_span(one_llm_span(traced), error, status)


def test_responses_stream_helper_http_error(
    openai_client: openai.OpenAI, provider: Any, traced: Finished
) -> None:
    provider.script(Reply(status=429))
    with pytest.raises(openai.RateLimitError) as caught:
        with openai_client.responses.stream(model=MODEL, input="Hi") as stream:
            stream.until_done()
    assert_error_span(one_llm_span(traced), caught.value, 429)


# --- responses: a stream broken mid-way -----------------------------------------------------------


def read_until_broken(stream: Any) -> tuple[list[Any], BaseException]:
    received: list[Any] = []
    try:
        for event in stream:
            received.append(event)
    except Exception as error:
        return received, error
    raise AssertionError("the stream did not break")


def test_responses_stream_broken_midway(
    openai_client: openai.OpenAI, provider: Any, traced: Finished
) -> None:
    tokentrail.uninstrument()
    provider.script(Reply(break_after=BREAK_AFTER))
    plain_received, plain_error = read_until_broken(respond(openai_client, stream=True))
    tokentrail.instrument()
    provider.script(Reply(break_after=BREAK_AFTER))
    received, error = read_until_broken(respond(openai_client, stream=True))
    assert [event.model_dump() for event in received] == [event.model_dump() for event in plain_received]
    assert len(received) == BREAK_AFTER
    assert type(error) is type(plain_error) is openai.APIConnectionError
    span = one_llm_span(traced)
    assert_error_span(span, error, None)
    assert_partial_response(span, received)


def test_responses_stream_helper_broken_midway(
    openai_client: openai.OpenAI, provider: Any, traced: Finished
) -> None:
    provider.script(Reply(break_after=BREAK_AFTER))
    with pytest.raises(openai.APIConnectionError) as caught:
        with openai_client.responses.stream(model=MODEL, input="Hi") as stream:
            stream.until_done()
    assert_error_span(one_llm_span(traced), caught.value, None)


async def test_responses_stream_broken_midway_async(
    async_openai_client: openai.AsyncOpenAI, provider: Any, traced: Finished
) -> None:
    async def read() -> tuple[list[Any], BaseException]:
        provider.script(Reply(break_after=BREAK_AFTER))
        received: list[Any] = []
        try:
            async for event in await arespond(async_openai_client, stream=True):
                received.append(event)
        except Exception as error:
            return received, error
        raise AssertionError("the stream did not break")

    tokentrail.uninstrument()
    plain_received, plain_error = await read()
    tokentrail.instrument()
    received, error = await read()
    assert [event.type for event in received] == [event.type for event in plain_received]
    assert type(error) is type(plain_error) is openai.APIConnectionError
    span = one_llm_span(traced)
    assert_error_span(span, error, None)
    assert_partial_response(span, received)


# --- responses: a stream left early -----------------------------------------------------------------


def read_two_deltas(stream: Any) -> list[Any]:
    received: list[Any] = []
    for event in stream:
        received.append(event)
        if event.type == "response.output_text.delta" and len(deltas(received).split()) == 2:
            break
    return received


def test_responses_stream_break_then_close(openai_client: openai.OpenAI, traced: Finished) -> None:
    stream = respond(openai_client, stream=True)
    received = read_two_deltas(stream)
    stream.close()
    assert stream.response.is_closed
    span = one_llm_span(traced)
    assert_closed_early(span)
    assert_partial_response(span, received)
    stream.close()  # a second close: still one end


def test_responses_stream_break_then_garbage_collected(
    openai_client: openai.OpenAI, traced: Finished
) -> None:
    stream = respond(openai_client, stream=True)
    received = read_two_deltas(stream)
    assert not llm_spans(traced())  # still open while the caller holds the stream
    del stream
    gc.collect()
    span = one_llm_span(traced)
    assert_closed_early(span)
    assert_partial_response(span, received)


def test_responses_stream_helper_left_early(openai_client: openai.OpenAI, traced: Finished) -> None:
    with openai_client.responses.stream(model=MODEL, input="How do I reset my password?") as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                break
    assert_closed_early(one_llm_span(traced))  # ended on leaving the block, not at garbage collection


def test_chat_stream_helper_left_early(openai_client: openai.OpenAI, traced: Finished) -> None:
    question = [{"role": "user", "content": "How do I reset my password?"}]
    with openai_client.chat.completions.stream(model=MODEL, messages=question) as stream:
        for event in stream:
            if event.type == "content.delta":
                break
    assert_closed_early(one_llm_span(traced))


async def test_responses_stream_helper_left_early_async(
    async_openai_client: openai.AsyncOpenAI, traced: Finished
) -> None:
    async with async_openai_client.responses.stream(model=MODEL, input="Hi") as stream:
        async for event in stream:
            if event.type == "response.output_text.delta":
                break
    assert_closed_early(one_llm_span(traced))


@pytest.mark.parametrize("ending", ["close", "garbage collected"])
async def test_responses_stream_left_early_async(
    async_openai_client: openai.AsyncOpenAI, traced: Finished, ending: str
) -> None:
    stream = await arespond(async_openai_client, stream=True)
    received: list[Any] = []
    async for event in stream:
        received.append(event)
        if event.type == "response.output_text.delta":
            break
    if ending == "close":
        await stream.close()
    else:
        del stream
        gc.collect()
    span = one_llm_span(traced)
    assert_closed_early(span)
    assert_partial_response(span, received)


# --- embeddings -----------------------------------------------------------------------------------


def assert_embedding_error(span: ReadableSpan, error: BaseException) -> None:
    assert_error_span(span, error, 500)
    assert span.name == f"embeddings {EMBEDDING_MODEL}"
    assert attrs(span)[sc.GEN_AI_OPERATION_NAME] == "embeddings"
    assert sc.GEN_AI_USAGE_INPUT_TOKENS not in attrs(span)


def test_embeddings_http_error(openai_client: openai.OpenAI, provider: Any, traced: Finished) -> None:
    def embed() -> Any:
        return openai_client.embeddings.create(model=EMBEDDING_MODEL, input="a")

    error, expected = errors_plain_then_traced(
        provider, Reply(status=500, error_message="backend down"), embed
    )
    assert type(error) is type(expected) is openai.InternalServerError
    assert "backend down" in str(error)
    assert_embedding_error(one_llm_span(traced), error)


async def test_embeddings_http_error_async(
    async_openai_client: openai.AsyncOpenAI, provider: Any, traced: Finished
) -> None:
    def embed() -> Awaitable[Any]:
        return async_openai_client.embeddings.create(model=EMBEDDING_MODEL, input=["a", "b"])

    error, expected = await async_errors_plain_then_traced(provider, Reply(status=500), embed)
    assert type(error) is type(expected) is openai.InternalServerError
    assert_embedding_error(one_llm_span(traced), error)


# --- anthropic: streamed calls that fail --------------------------------------------------------


def anthropic_streamed(client: anthropic.Anthropic, helper: bool) -> Any:
    """A streamed message read to its end, by `create(stream=True)` or by the `messages.stream()` helper."""
    request: dict[str, Any] = {"model": ANTHROPIC_MODEL, "max_tokens": 50, "messages": ANTHROPIC_QUESTION}
    if helper:
        with client.messages.stream(**request) as stream:
            return stream.get_final_message()
    return list(client.messages.create(**request, stream=True))


@pytest.mark.parametrize("status", [429, 500])
@pytest.mark.parametrize("helper", [False, True])
def test_anthropic_streamed_http_error(
    anthropic_client: anthropic.Anthropic, provider: Any, traced: Finished, status: int, helper: bool
) -> None:
    error, expected = errors_plain_then_traced(
        provider, Reply(status=status), lambda: anthropic_streamed(anthropic_client, helper)
    )
    assert type(error) is type(expected) is ANTHROPIC_ERRORS[status]
    span = one_llm_span(traced)
    assert_error_span(span, error, status)
    assert attrs(span)[sc.TT_IS_STREAMING] is True


async def test_anthropic_streamed_http_errors_async(
    async_anthropic_client: anthropic.AsyncAnthropic, provider: Any, traced: Finished
) -> None:
    request: dict[str, Any] = {"model": ANTHROPIC_MODEL, "max_tokens": 9, "messages": ANTHROPIC_QUESTION}
    provider.script(Reply(status=429), Reply(status=500))
    with pytest.raises(anthropic.RateLimitError):
        await async_anthropic_client.messages.create(**request, stream=True)
    with pytest.raises(anthropic.InternalServerError):
        async with async_anthropic_client.messages.stream(**request) as stream:
            await stream.get_final_message()
    spans = sorted(llm_spans(traced()), key=lambda span: span.start_time or 0)
    assert [attrs(span)[sc.HTTP_RESPONSE_STATUS_CODE] for span in spans] == [429, 500]
    assert [span.status.status_code for span in spans] == [StatusCode.ERROR, StatusCode.ERROR]


async def test_anthropic_stream_helper_broken_midway_async(
    async_anthropic_client: anthropic.AsyncAnthropic, provider: Any, traced: Finished
) -> None:
    async def read() -> BaseException:
        provider.script(Reply(break_after=5))
        try:
            async with async_anthropic_client.messages.stream(
                model=ANTHROPIC_MODEL, max_tokens=9, messages=ANTHROPIC_QUESTION
            ) as stream:
                await stream.get_final_message()
        except Exception as error:
            return error
        raise AssertionError("the stream did not break")

    tokentrail.uninstrument()
    expected = await read()
    tokentrail.instrument()
    error = await read()
    assert type(error) is type(expected)
    assert_error_span(one_llm_span(traced), error, None)


# --- anthropic: streams left early ----------------------------------------------------------------


def test_anthropic_stream_break_then_close(anthropic_client: anthropic.Anthropic, traced: Finished) -> None:
    stream = anthropic_client.messages.create(
        model=ANTHROPIC_MODEL, max_tokens=9, messages=ANTHROPIC_QUESTION, stream=True
    )
    for event in stream:
        if event.type == "content_block_delta":
            break
    stream.close()
    assert stream.response.is_closed
    span = one_llm_span(traced)
    assert_closed_early(span)
    assert str(attrs(span)[sc.GEN_AI_RESPONSE_ID]).startswith("msg_")


def test_anthropic_stream_helper_closed_inside_block(
    anthropic_client: anthropic.Anthropic, traced: Finished
) -> None:
    with anthropic_client.messages.stream(
        model=ANTHROPIC_MODEL, max_tokens=9, messages=ANTHROPIC_QUESTION
    ) as stream:
        for event in stream:
            if event.type == "content_block_delta":
                break
        stream.close()
        assert_closed_early(one_llm_span(traced))  # ended at close(), not later at the block's end


async def test_anthropic_stream_break_then_close_async(
    async_anthropic_client: anthropic.AsyncAnthropic, traced: Finished
) -> None:
    stream = await async_anthropic_client.messages.create(
        model=ANTHROPIC_MODEL, max_tokens=9, messages=ANTHROPIC_QUESTION, stream=True
    )
    async for event in stream:
        if event.type == "content_block_delta":
            break
    await stream.close()
    assert_closed_early(one_llm_span(traced))


async def test_anthropic_stream_helper_left_early_async(
    async_anthropic_client: anthropic.AsyncAnthropic, traced: Finished
) -> None:
    async with async_anthropic_client.messages.stream(
        model=ANTHROPIC_MODEL, max_tokens=9, messages=ANTHROPIC_QUESTION
    ) as stream:
        async for event in stream:
            if event.type == "content_block_delta":
                break
    assert_closed_early(one_llm_span(traced))
