"""`@observe` on every function shape: plain, async, generator, async generator, methods."""

from __future__ import annotations

import asyncio
import gc
import inspect
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

import tokentrail
from tokentrail import semconv
from tokentrail.semconv import SpanKind

from .spans import attrs, by_name, input_of, output_of, parent_id

Finished = Callable[[], list[ReadableSpan]]


def test_sync_function(traced: Finished) -> None:
    @tokentrail.observe
    def add(a: int, b: int = 10) -> int:
        return a + b

    assert add(1, b=2) == 3
    (span,) = traced()
    assert span.name == add.__qualname__
    assert attrs(span)[semconv.TT_SPAN_KIND] == "chain"
    assert input_of(span) == {"a": 1, "b": 2}
    assert output_of(span) == 3
    assert span.status.status_code is StatusCode.UNSET


def test_name_and_kind_arguments(traced: Finished) -> None:
    @tokentrail.observe(name="llm.call", kind="llm")
    def call() -> str:
        return "hi"

    @tokentrail.observe(kind=SpanKind.TOOL)
    def tool() -> None:
        return None

    call()
    tool()
    spans = by_name(traced())
    assert attrs(spans["llm.call"])[semconv.TT_SPAN_KIND] == "llm"
    assert attrs(spans[tool.__qualname__])[semconv.TT_SPAN_KIND] == "tool"
    assert output_of(spans[tool.__qualname__]) is None


@pytest.mark.parametrize("kind", [k.value for k in SpanKind])
def test_every_kind_is_accepted(traced: Finished, kind: str) -> None:
    @tokentrail.observe(kind=kind)  # type: ignore[call-overload]
    def f() -> None:
        pass

    f()
    (span,) = traced()
    assert attrs(span)[semconv.TT_SPAN_KIND] == kind


def test_unknown_kind_is_refused_at_decoration() -> None:
    with pytest.raises(ValueError):
        tokentrail.observe(kind="banana")  # type: ignore[call-overload]


def test_capture_flags_per_function(traced: Finished) -> None:
    @tokentrail.observe(capture_input=False)
    def no_input(secret: str) -> str:
        return "out"

    @tokentrail.observe(capture_output=False)
    def no_output(x: int) -> str:
        return "secret"

    no_input("secret")
    no_output(1)
    spans = by_name(traced())
    assert semconv.TT_INPUT not in attrs(spans[no_input.__qualname__])
    assert output_of(spans[no_input.__qualname__]) == "out"
    assert semconv.TT_OUTPUT not in attrs(spans[no_output.__qualname__])
    assert input_of(spans[no_output.__qualname__]) == {"x": 1}


async def test_async_function(traced: Finished) -> None:
    @tokentrail.observe(kind="llm")
    async def ask(question: str) -> str:
        await asyncio.sleep(0)
        return question.upper()

    assert inspect.iscoroutinefunction(ask)
    assert await ask("why?") == "WHY?"
    (span,) = traced()
    assert input_of(span) == {"question": "why?"}
    assert output_of(span) == "WHY?"
    assert span.end_time is not None


def test_generator_exhausted(traced: Finished) -> None:
    @tokentrail.observe
    def count(n: int) -> Generator[int, None, str]:
        yield from range(n)
        return "done"

    def consumer() -> Generator[int, None, None]:
        returned = yield from count(3)
        assert returned == "done"

    assert inspect.isgeneratorfunction(count)
    assert list(consumer()) == [0, 1, 2]
    (span,) = traced()
    assert output_of(span) == [0, 1, 2]
    assert input_of(span) == {"n": 3}


def test_generator_send_and_throw_reach_the_inner_generator(traced: Finished) -> None:
    @tokentrail.observe
    def echo() -> Generator[str, str, None]:
        received = yield "ready"
        while True:
            try:
                received = yield f"got {received}"
            except KeyError:
                received = "recovered"

    gen = echo()
    assert next(gen) == "ready"
    assert gen.send("a") == "got a"
    assert gen.throw(KeyError("k")) == "got recovered"
    gen.close()
    (span,) = traced()
    assert output_of(span) == ["ready", "got a", "got recovered"]
    assert span.status.status_code is StatusCode.UNSET


def test_generator_early_break_then_close(traced: Finished) -> None:
    closed = []

    @tokentrail.observe
    def numbers() -> Generator[int, None, None]:
        try:
            yield from range(100)
        finally:
            closed.append(True)

    gen = numbers()
    for item in gen:
        if item == 2:
            break
    gen.close()
    assert closed == [True]
    (span,) = traced()
    assert output_of(span) == [0, 1, 2]
    assert span.status.status_code is StatusCode.UNSET


def test_generator_abandoned_and_garbage_collected(traced: Finished) -> None:
    @tokentrail.observe
    def numbers() -> Iterator[int]:
        yield from range(100)

    for item in numbers():
        if item == 1:
            break
    gc.collect()
    (span,) = traced()
    assert output_of(span) == [0, 1]


def test_generator_failure(traced: Finished) -> None:
    error = RuntimeError("stream broke")

    @tokentrail.observe
    def flaky() -> Iterator[int]:
        yield 1
        raise error

    received = []
    with pytest.raises(RuntimeError) as caught:
        for item in flaky():
            received.append(item)
    assert caught.value is error
    assert received == [1]
    (span,) = traced()
    assert span.status.status_code is StatusCode.ERROR
    assert output_of(span) == [1]
    assert attrs(span)[semconv.ERROR_TYPE] == "RuntimeError"
    assert [event.name for event in span.events] == [semconv.EXCEPTION_EVENT]


def test_generator_span_is_current_only_inside_the_generator(traced: Finished) -> None:
    seen_inside = []

    @tokentrail.observe
    def child() -> int:
        return 1

    @tokentrail.observe
    def producer() -> Iterator[int]:
        seen_inside.append(trace.get_current_span().get_span_context().span_id)
        yield child()
        yield child()

    outside_before = trace.get_current_span()
    for _ in producer():
        assert trace.get_current_span() is outside_before
    spans = traced()
    gen_span = next(s for s in spans if s.name == producer.__qualname__)
    children = [s for s in spans if s.name == child.__qualname__]
    assert seen_inside == [gen_span.context.span_id]
    assert len(children) == 2
    assert all(parent_id(c) == gen_span.context.span_id for c in children)


async def test_async_generator_exhausted(traced: Finished) -> None:
    @tokentrail.observe(kind="llm")
    async def stream(prompt: str) -> AsyncIterator[str]:
        for word in prompt.split():
            await asyncio.sleep(0)
            yield word

    assert inspect.isasyncgenfunction(stream)
    assert [w async for w in stream("a b c")] == ["a", "b", "c"]
    (span,) = traced()
    assert output_of(span) == ["a", "b", "c"]
    assert input_of(span) == {"prompt": "a b c"}


async def test_async_generator_asend_and_athrow(traced: Finished) -> None:
    @tokentrail.observe
    async def accumulate() -> AsyncGenerator[int, int | None]:
        total = 0
        while True:
            try:
                total += (yield total) or 0
            except ValueError:
                total = -1

    agen = accumulate()
    assert await agen.asend(None) == 0
    assert await agen.asend(5) == 5
    assert await agen.athrow(ValueError("reset")) == -1
    await agen.aclose()
    (span,) = traced()
    assert output_of(span) == [0, 5, -1]


async def test_async_generator_early_break_then_aclose(traced: Finished) -> None:
    cleaned = []

    @tokentrail.observe
    async def numbers() -> AsyncGenerator[int, None]:
        try:
            for i in range(100):
                yield i
        finally:
            cleaned.append(True)

    agen = numbers()
    async for item in agen:
        if item == 2:
            break
    await agen.aclose()
    assert cleaned == [True]
    (span,) = traced()
    assert output_of(span) == [0, 1, 2]


async def test_async_generator_abandoned_is_finalised_by_the_loop(traced: Finished) -> None:
    @tokentrail.observe
    async def numbers() -> AsyncIterator[int]:
        for i in range(100):
            yield i

    async for item in numbers():
        if item == 1:
            break
    gc.collect()
    for _ in range(5):  # the loop's finaliser schedules aclose() as a task
        await asyncio.sleep(0)
    (span,) = traced()
    assert output_of(span) == [0, 1]


async def test_async_generator_failure(traced: Finished) -> None:
    error = ConnectionError("lost")

    @tokentrail.observe
    async def flaky() -> AsyncIterator[int]:
        yield 1
        raise error

    with pytest.raises(ConnectionError) as caught:
        async for _ in flaky():
            pass
    assert caught.value is error
    (span,) = traced()
    assert span.status.status_code is StatusCode.ERROR
    assert output_of(span) == [1]


class Assistant:
    greeting = "hello"

    @tokentrail.observe
    def greet(self, name: str) -> str:
        return f"{self.greeting} {name}"

    @classmethod
    @tokentrail.observe
    def make(cls, tone: str) -> str:
        return f"{cls.__name__}:{tone}"

    @tokentrail.observe
    @classmethod
    def make_outer(cls, tone: str) -> str:
        return f"{cls.__name__}/{tone}"

    @staticmethod
    @tokentrail.observe
    def shout(text: str) -> str:
        return text.upper()

    @tokentrail.observe
    @staticmethod
    def whisper(text: str) -> str:
        return text.lower()

    @tokentrail.observe
    async def agreet(self, name: str) -> str:
        return name


async def test_methods(traced: Finished) -> None:
    assistant = Assistant()
    assert assistant.greet("ann") == "hello ann"
    assert Assistant.make("warm") == "Assistant:warm"
    assert Assistant.make_outer("cold") == "Assistant/cold"
    assert assistant.shout("hi") == "HI"
    assert Assistant.whisper("HI") == "hi"
    assert await assistant.agreet("bo") == "bo"
    spans = by_name(traced())
    assert input_of(spans["Assistant.greet"]) == {"name": "ann"}
    assert input_of(spans["Assistant.make"]) == {"tone": "warm"}
    assert input_of(spans["Assistant.make_outer"]) == {"tone": "cold"}
    assert input_of(spans["Assistant.shout"]) == {"text": "hi"}
    assert input_of(spans["Assistant.whisper"]) == {"text": "HI"}
    assert input_of(spans["Assistant.agreet"]) == {"name": "bo"}


def documented(question: str, *, model: str = "m", **extra: int) -> dict[str, int]:
    """Answer a question."""
    return {}


async def adocumented(question: str, *, model: str = "m") -> str:
    """Answer asynchronously."""
    return question


def gdocumented(n: int) -> Iterator[int]:
    """Yield numbers."""
    yield n


async def agdocumented(n: int) -> AsyncIterator[int]:
    """Yield numbers asynchronously."""
    yield n


@pytest.mark.parametrize("func", [documented, adocumented, gdocumented, agdocumented])
@pytest.mark.parametrize(
    "decorate", [tokentrail.observe, tokentrail.observe(), tokentrail.observe(kind="llm", name="x")]
)
def test_signature_and_metadata_preserved(func: Callable[..., object], decorate: Callable) -> None:
    wrapped = decorate(func)
    assert inspect.signature(wrapped) == inspect.signature(func)
    assert wrapped.__wrapped__ is func  # type: ignore[attr-defined]
    assert wrapped.__name__ == func.__name__
    assert wrapped.__qualname__ == func.__qualname__
    assert wrapped.__doc__ == func.__doc__
    assert wrapped.__module__ == func.__module__
    assert inspect.iscoroutinefunction(wrapped) == inspect.iscoroutinefunction(func)
    assert inspect.isgeneratorfunction(wrapped) == inspect.isgeneratorfunction(func)
    assert inspect.isasyncgenfunction(wrapped) == inspect.isasyncgenfunction(func)


async def test_pass_through_before_init() -> None:
    stats_before = tokentrail.export_stats()
    calls = []

    @tokentrail.observe
    def f(x: int) -> int:
        calls.append(x)
        return x + 1

    @tokentrail.observe
    async def af(x: int) -> int:
        calls.append(x)
        return x + 2

    @tokentrail.observe
    def g(n: int) -> Iterator[int]:
        calls.append(n)
        yield from range(n)

    @tokentrail.observe
    async def ag(n: int) -> AsyncIterator[int]:
        calls.append(n)
        for i in range(n):
            yield i

    assert f(1) == 2
    assert await af(2) == 4
    assert list(g(3)) == [0, 1, 2]
    assert [i async for i in ag(2)] == [0, 1]
    assert calls == [1, 2, 3, 2]
    assert not trace.get_current_span().is_recording()
    assert tokentrail.flush() is True
    assert tokentrail.export_stats() == stats_before


def test_pass_through_after_shutdown(traced: Finished, exporter) -> None:  # type: ignore[no-untyped-def]
    @tokentrail.observe
    def f() -> int:
        return 7

    f()
    tokentrail.shutdown()
    assert f() == 7
    assert len(exporter.get_finished_spans()) == 1
    assert tokentrail.export_stats().exported == 1
