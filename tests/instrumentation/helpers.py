"""Helpers for the instrumentation tests: the fake provider module, and reading our LLM spans."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

import tokentrail
from tokentrail import semconv

_EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _load_fake_provider() -> Any:
    spec = importlib.util.spec_from_file_location("fake_provider", _EXAMPLES / "fake_provider.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fake = _load_fake_provider()
FakeProvider = fake.FakeProvider
Reply = fake.Reply
Usage = fake.Usage
ToolCall = fake.ToolCall

Finished = Callable[[], list[ReadableSpan]]
QUESTION = [
    {"role": "system", "content": "Answer briefly."},
    {"role": "user", "content": "How do I reset my password?"},
]
ANTHROPIC_QUESTION = [{"role": "user", "content": "How do I reset my password?"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def llm_spans(spans: list[ReadableSpan]) -> list[ReadableSpan]:
    """tokentrail's model-call spans (not @observe's, nor the anthropic client's own)."""
    return [span for span in spans if span.attributes and semconv.GEN_AI_OPERATION_NAME in span.attributes
            and span.instrumentation_scope is not None and span.instrumentation_scope.name == "tokentrail"]  # fmt: skip


def one_llm_span(finished: Finished) -> ReadableSpan:
    spans = llm_spans(finished())
    assert len(spans) == 1, [span.name for span in spans]
    return spans[0]


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def content(span: ReadableSpan, key: str) -> Any:
    return json.loads(str(attrs(span)[key]))


def texts(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(role, joined text) of each GenAI message."""
    return [
        (message["role"], "".join(part["content"] for part in message["parts"] if part["type"] == "text"))
        for message in messages
    ]


def tool_calls(messages: list[dict[str, Any]]) -> list[tuple[Any, Any, Any]]:
    return [
        (part["id"], part["name"], part["arguments"])
        for message in messages
        for part in message["parts"]
        if part["type"] == "tool_call"
    ]


def error_of(call: Callable[[], Any]) -> BaseException:
    """The exception `call()` raises, reading its result to the end if it is a stream."""
    try:
        result = call()
        if hasattr(result, "__iter__"):
            list(result)
    except Exception as error:
        return error
    raise AssertionError("no error raised")


async def async_error_of(call: Callable[[], Awaitable[Any]]) -> BaseException:
    """`error_of` for a coroutine: the exception it raises, reading a returned stream to the end."""
    try:
        result = await call()
        if hasattr(result, "__aiter__"):
            async for _ in result:
                pass
    except Exception as error:
        return error
    raise AssertionError("no error raised")


def errors_plain_then_traced(
    provider: Any, reply: Any, call: Callable[[], Any]
) -> tuple[BaseException, BaseException]:
    """(traced, plain): what `call` raises instrumented and, first, uninstrumented, the provider
    answering `reply` each time, so a test can hold the two side by side."""
    tokentrail.uninstrument()
    provider.script(reply)
    plain = error_of(call)
    tokentrail.instrument()
    provider.script(reply)
    return error_of(call), plain


async def async_errors_plain_then_traced(
    provider: Any, reply: Any, call: Callable[[], Awaitable[Any]]
) -> tuple[BaseException, BaseException]:
    """`errors_plain_then_traced` for a coroutine."""
    tokentrail.uninstrument()
    provider.script(reply)
    plain = await async_error_of(call)
    tokentrail.instrument()
    provider.script(reply)
    return await async_error_of(call), plain


def assert_closed_early(span: ReadableSpan) -> None:
    """A stream left before its end: the span ended, not an error, still marked streaming."""
    assert span.end_time is not None
    assert span.status.status_code is StatusCode.UNSET
    assert semconv.ERROR_TYPE not in attrs(span)
    assert attrs(span)[semconv.TT_IS_STREAMING] is True


def assert_error_span(span: ReadableSpan, error: BaseException, status_code: int | None) -> None:
    values = attrs(span)
    assert span.status.status_code is StatusCode.ERROR
    assert values[semconv.ERROR_TYPE] == type(error).__qualname__
    assert values.get(semconv.HTTP_RESPONSE_STATUS_CODE) == status_code
    assert any(event.name == semconv.EXCEPTION_EVENT for event in span.events)
