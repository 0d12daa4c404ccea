"""The app's exceptions pass through unchanged and are recorded; tokentrail's own never escape."""

from __future__ import annotations

import traceback
from collections.abc import Callable

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

import tokentrail
from tokentrail import _content, _internal, semconv

from .spans import attrs, by_name

Finished = Callable[[], list[ReadableSpan]]


class PaymentError(Exception):
    pass


def _raise_payment_error() -> None:
    raise PaymentError("card declined")


def test_exception_is_the_same_object_with_its_traceback(traced: Finished) -> None:
    @tokentrail.observe(name="pay")
    def pay(amount: int) -> None:
        _raise_payment_error()

    with pytest.raises(PaymentError) as caught:
        pay(5)
    frames = [frame.name for frame in traceback.extract_tb(caught.value.__traceback__)]
    assert frames[-1] == "_raise_payment_error"
    assert "pay" in frames

    original = PaymentError("same")

    @tokentrail.observe(name="reraise")
    def reraise() -> None:
        raise original

    with pytest.raises(PaymentError) as caught_again:
        reraise()
    assert caught_again.value is original
    assert caught_again.value.__cause__ is None and caught_again.value.__context__ is None

    span = by_name(traced())["pay"]
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "PaymentError: card declined"
    assert attrs(span)[semconv.ERROR_TYPE] == "PaymentError"
    (event,) = span.events
    assert event.name == semconv.EXCEPTION_EVENT
    assert event.attributes is not None
    assert event.attributes[semconv.EXCEPTION_MESSAGE] == "card declined"
    assert str(event.attributes[semconv.EXCEPTION_TYPE]).endswith("PaymentError")
    assert semconv.TT_OUTPUT not in attrs(span)


async def test_async_exception(traced: Finished) -> None:
    error = TimeoutError("model too slow")

    @tokentrail.observe(name="slow")
    async def slow() -> None:
        raise error

    with pytest.raises(TimeoutError) as caught:
        await slow()
    assert caught.value is error
    span = by_name(traced())["slow"]
    assert span.status.status_code is StatusCode.ERROR
    assert attrs(span)[semconv.ERROR_TYPE] == "TimeoutError"


def test_parent_of_a_failed_child_is_not_marked_if_it_recovers(traced: Finished) -> None:
    @tokentrail.observe(name="child")
    def child() -> None:
        raise KeyError("missing")

    @tokentrail.observe(name="parent")
    def parent() -> str:
        try:
            child()
        except KeyError:
            return "fallback"
        return "unreachable"

    assert parent() == "fallback"
    spans = by_name(traced())
    assert spans["child"].status.status_code is StatusCode.ERROR
    assert spans["parent"].status.status_code is StatusCode.UNSET


def test_exception_whose_str_fails(traced: Finished) -> None:
    class Weird(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no str for you")

    @tokentrail.observe(name="weird")
    def weird() -> None:
        raise Weird()

    with pytest.raises(Weird):
        weird()
    span = by_name(traced())["weird"]
    assert span.end_time is not None
    assert span.status.status_code is StatusCode.ERROR
    assert attrs(span)[semconv.ERROR_TYPE] == Weird.__qualname__
    (event,) = span.events
    assert event.name == semconv.EXCEPTION_EVENT
    assert event.attributes is not None
    stacktrace = str(event.attributes[semconv.EXCEPTION_STACKTRACE])
    assert "Weird" in stacktrace and "in weird" in stacktrace


def test_keyboard_interrupt_passes_through_and_ends_the_span(traced: Finished) -> None:
    @tokentrail.observe(name="interrupted")
    def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    span = by_name(traced())["interrupted"]
    assert span.end_time is not None


def test_internal_error_is_swallowed_reported_and_the_call_still_works(
    traced: Finished, monkeypatch: pytest.MonkeyPatch, internal_errors: list[BaseException]
) -> None:
    def broken_to_json(value: object) -> str:
        raise ZeroDivisionError("bug in tokentrail")

    monkeypatch.setattr(_content, "to_json", broken_to_json)

    @tokentrail.observe(name="f")
    def f(x: int) -> int:
        return x * 2

    assert f(21) == 42
    assert [type(e) for e in internal_errors] == [ZeroDivisionError, ZeroDivisionError]
    internal_errors.clear()
    (span,) = traced()
    assert span.end_time is not None
    assert semconv.TT_INPUT not in attrs(span)


def test_internal_error_in_tracer_still_calls_the_function(
    traced: Finished, monkeypatch: pytest.MonkeyPatch, internal_errors: list[BaseException]
) -> None:
    from tokentrail import _runtime

    runtime = _runtime.active
    assert runtime is not None

    class ExplodingTracer:
        def start_span(self, *args: object, **kwargs: object) -> None:
            raise RuntimeError("tracer broke")

    exploding = _runtime.Runtime(tracer=ExplodingTracer(), content=runtime.content)  # type: ignore[arg-type]
    monkeypatch.setattr(_runtime, "active", exploding)

    @tokentrail.observe
    def f() -> str:
        return "still works"

    @tokentrail.observe
    def g() -> None:
        raise ValueError("app error")

    assert f() == "still works"
    with pytest.raises(ValueError, match="app error"):
        g()
    assert [str(e) for e in internal_errors] == ["tracer broke", "tracer broke"]
    internal_errors.clear()


def test_capture_internal_exceptions_lets_base_exceptions_through(
    internal_errors: list[BaseException],
) -> None:
    with _internal.capture_internal_exceptions():
        raise ValueError("swallowed")
    assert [str(e) for e in internal_errors] == ["swallowed"]
    internal_errors.clear()
    with pytest.raises(SystemExit):
        with _internal.capture_internal_exceptions():
            raise SystemExit(3)
    assert internal_errors == []


def test_failing_hook_does_not_escape() -> None:
    def bad_hook(error: BaseException) -> None:
        raise RuntimeError("hook broke")

    previous = _internal.set_internal_error_hook(bad_hook)
    try:
        with _internal.capture_internal_exceptions():
            raise ValueError("x")
    finally:
        _internal.set_internal_error_hook(previous)
