"""Provider errors reach the caller unchanged and mark the span; streams end their span exactly once,
however they end: exhausted, broken mid-way, closed, left in a `with`, or dropped after a `break`."""

from __future__ import annotations

import gc
from typing import Any

import anthropic
import openai
import pytest
from opentelemetry.trace import StatusCode

import tokentrail
from tests.instrumentation.helpers import (
    ANTHROPIC_QUESTION,
    QUESTION,
    Finished,
    Reply,
    assert_closed_early,
    assert_error_span,
    attrs,
    content,
    errors_plain_then_traced,
    llm_spans,
    one_llm_span,
)
from tokentrail import semconv as sc
from tokentrail.instrumentation.openai import _chat

pytestmark = pytest.mark.usefixtures("instrumented")

ANTHROPIC_MODEL = "claude-haiku-4-5"


def openai_chat(client: openai.OpenAI, **extra: Any) -> Any:
    return client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION, **extra)


def anthropic_message(client: anthropic.Anthropic, **extra: Any) -> Any:
    return client.messages.create(model=ANTHROPIC_MODEL, max_tokens=100, messages=ANTHROPIC_QUESTION, **extra)


@pytest.mark.parametrize("status", [429, 500])
@pytest.mark.parametrize("streaming", [False, True])
def test_openai_http_error(
    openai_client: openai.OpenAI, provider: Any, traced: Finished, status: int, streaming: bool
) -> None:
    error, expected = errors_plain_then_traced(
        provider,
        Reply(status=status, error_message="slow down"),
        lambda: openai_chat(openai_client, stream=streaming),
    )
    assert (
        type(error) is type(expected) is {429: openai.RateLimitError, 500: openai.InternalServerError}[status]
    )
    assert error.status_code == status  # type: ignore[attr-defined]
    assert "slow down" in str(error)
    assert_error_span(one_llm_span(traced), error, status)


@pytest.mark.parametrize("status", [429, 500])
def test_anthropic_http_error(
    anthropic_client: anthropic.Anthropic, provider: Any, traced: Finished, status: int
) -> None:
    provider.script(Reply(status=status))
    with pytest.raises(anthropic.APIStatusError) as caught:
        anthropic_message(anthropic_client)
    assert type(caught.value) is {429: anthropic.RateLimitError, 500: anthropic.InternalServerError}[status]
    assert_error_span(one_llm_span(traced), caught.value, status)


async def test_async_http_errors(
    async_openai_client: openai.AsyncOpenAI,
    async_anthropic_client: anthropic.AsyncAnthropic,
    provider: Any,
    traced: Finished,
) -> None:
    provider.script(Reply(status=429), Reply(status=500))
    with pytest.raises(openai.RateLimitError):
        await async_openai_client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
    with pytest.raises(anthropic.InternalServerError):
        await async_anthropic_client.messages.create(
            model=ANTHROPIC_MODEL, max_tokens=9, messages=ANTHROPIC_QUESTION
        )
    spans = sorted(llm_spans(traced()), key=lambda span: span.start_time or 0)
    assert [attrs(span)[sc.HTTP_RESPONSE_STATUS_CODE] for span in spans] == [429, 500]


# --- a stream broken mid-way: the client's own error reaches the caller ----------------------------


def test_openai_stream_broken_midway(openai_client: openai.OpenAI, provider: Any, traced: Finished) -> None:
    def read() -> tuple[list[str], BaseException]:
        provider.script(Reply(break_after=4))
        received: list[str] = []
        try:
            for chunk in openai_chat(openai_client, stream=True):
                received.append(chunk.choices[0].delta.content or "")
        except Exception as error:
            return received, error
        raise AssertionError("the stream did not break")

    tokentrail.uninstrument()
    plain_received, plain_error = read()
    tokentrail.instrument()
    received, error = read()
    assert received == plain_received and len(received) == 4
    assert type(error) is type(plain_error) is openai.APIConnectionError
    span = one_llm_span(traced)
    assert_error_span(span, error, None)
    assert content(span, sc.GEN_AI_OUTPUT_MESSAGES)[0]["parts"][0]["content"] == "".join(received)
    assert attrs(span)[sc.TT_TOKENS_ESTIMATED] is True


def test_anthropic_stream_broken_midway(
    anthropic_client: anthropic.Anthropic, provider: Any, traced: Finished
) -> None:
    error, expected = errors_plain_then_traced(
        provider, Reply(break_after=5), lambda: anthropic_message(anthropic_client, stream=True)
    )
    assert type(error) is type(expected)
    assert_error_span(one_llm_span(traced), error, None)


def test_anthropic_stream_helper_broken_midway(
    anthropic_client: anthropic.Anthropic, provider: Any, traced: Finished
) -> None:
    provider.script(Reply(break_after=5))
    with pytest.raises(Exception) as caught:  # noqa: B017 - whatever the client raises, unchanged
        with anthropic_client.messages.stream(
            model=ANTHROPIC_MODEL, max_tokens=9, messages=ANTHROPIC_QUESTION
        ) as stream:
            stream.get_final_text()
    assert_error_span(one_llm_span(traced), caught.value, None)


async def test_async_streams_broken_midway(
    async_openai_client: openai.AsyncOpenAI,
    async_anthropic_client: anthropic.AsyncAnthropic,
    provider: Any,
    traced: Finished,
) -> None:
    provider.script(Reply(break_after=3), Reply(break_after=3))
    stream = await async_openai_client.chat.completions.create(
        model="gpt-4o-mini", messages=QUESTION, stream=True
    )
    with pytest.raises(openai.APIConnectionError):
        async for _ in stream:
            pass
    events = await async_anthropic_client.messages.create(
        model=ANTHROPIC_MODEL, max_tokens=9, messages=ANTHROPIC_QUESTION, stream=True
    )
    with pytest.raises(Exception):  # noqa: B017
        async for _ in events:
            pass
    spans = sorted(llm_spans(traced()), key=lambda span: span.start_time or 0)
    assert [span.status.status_code for span in spans] == [StatusCode.ERROR, StatusCode.ERROR]


# --- streams the caller stops reading ------------------------------------------------------------


def test_break_then_garbage_collected(openai_client: openai.OpenAI, traced: Finished) -> None:
    stream = openai_chat(openai_client, stream=True)
    for _ in stream:
        break
    del stream
    gc.collect()
    assert_closed_early(one_llm_span(traced))


def test_reading_resumed_after_a_break_is_all_recorded(
    openai_client: openai.OpenAI, traced: Finished
) -> None:
    stream = openai_chat(openai_client, stream=True)
    received = []
    for chunk in stream:
        received.append(chunk.choices[0].delta.content or "")
        break
    received.append(next(stream).choices[0].delta.content or "")
    received += [chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices]
    span = one_llm_span(traced)
    assert span.status.status_code is StatusCode.UNSET
    assert content(span, sc.GEN_AI_OUTPUT_MESSAGES)[0]["parts"][0]["content"] == "".join(received)
    assert attrs(span)[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)


def test_never_iterated_then_dropped(anthropic_client: anthropic.Anthropic, traced: Finished) -> None:
    anthropic_message(anthropic_client, stream=True)
    gc.collect()
    assert_closed_early(one_llm_span(traced))


def test_close(openai_client: openai.OpenAI, traced: Finished) -> None:
    stream = openai_chat(openai_client, stream=True)
    first = next(stream)
    assert first.choices[0].delta.role == "assistant"
    stream.close()
    assert stream.response.is_closed
    span = one_llm_span(traced)
    assert_closed_early(span)
    stream.close()  # a second close: still one end
    del stream
    gc.collect()


def test_with_block_left_early(anthropic_client: anthropic.Anthropic, traced: Finished) -> None:
    with anthropic_message(anthropic_client, stream=True) as stream:
        for _ in stream:
            break
    assert_closed_early(one_llm_span(traced))


async def test_async_break_then_close(async_openai_client: openai.AsyncOpenAI, traced: Finished) -> None:
    stream = await async_openai_client.chat.completions.create(
        model="gpt-4o-mini", messages=QUESTION, stream=True
    )
    async for _ in stream:
        break
    await stream.close()
    assert_closed_early(one_llm_span(traced))


async def test_async_break_then_garbage_collected(
    async_anthropic_client: anthropic.AsyncAnthropic, traced: Finished
) -> None:
    stream = await async_anthropic_client.messages.create(
        model=ANTHROPIC_MODEL, max_tokens=9, messages=ANTHROPIC_QUESTION, stream=True
    )
    async for _ in stream:
        break
    del stream
    gc.collect()
    assert_closed_early(one_llm_span(traced))


# --- our own failures stay ours ----------------------------------------------------------------


def test_failing_accumulator_does_not_touch_the_stream(
    openai_client: openai.OpenAI,
    monkeypatch: pytest.MonkeyPatch,
    traced: Finished,
    internal_errors: list[BaseException],
) -> None:
    def broken(self: object, chunk: object) -> None:
        raise RuntimeError("bug in tokentrail")

    tokentrail.uninstrument()
    plain = [chunk.model_dump() for chunk in openai_chat(openai_client, stream=True)]
    tokentrail.instrument()
    monkeypatch.setattr(_chat.ChunkAccumulator, "add", broken)
    observed = [chunk.model_dump() for chunk in openai_chat(openai_client, stream=True)]
    assert observed == plain
    assert internal_errors and all(str(error) == "bug in tokentrail" for error in internal_errors)
    internal_errors.clear()
    one_llm_span(traced)
