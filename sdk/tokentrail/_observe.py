"""`@observe`: a span around each call of a function, coroutine, generator or async generator.

Per call: start a span in the current OpenTelemetry context, make it current, record the bound
arguments and the result (or what was yielded) as JSON, end it. Everything decidable once is
decided at decoration time (shape, name, kind, how to bind arguments). Before `init()`, and while
instrumentation is suppressed, the wrapper just calls the function. The user's exception is
re-raised as is, recorded through the content policy (`_errors`); errors of ours are swallowed by
`CAPTURE`.

Generators: the span starts at the first `next()` and ends when the generator is exhausted,
fails, or is closed (an early `break` then garbage collection, or `close()`/`aclose()`). The
span is made current only while the generator's own code runs, never across a `yield`, so the
consumer's context is left alone.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any, Literal, ParamSpec, TypeVar, cast, overload

from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY, Context, attach, detach, get_value
from opentelemetry.trace import Span, set_span_in_context

from tokentrail import _runtime, semconv
from tokentrail._arguments import ArgumentBinder
from tokentrail._errors import end_error
from tokentrail._internal import CAPTURE
from tokentrail.semconv import SpanKind

P = ParamSpec("P")
R = TypeVar("R")
KindName = Literal["llm", "embedding", "chain", "agent", "tool", "retrieval", "other"]


class _Spec:
    """What `@observe` decided at decoration time for one function."""

    __slots__ = ("name", "kind", "capture_input", "capture_output", "binder")

    def __init__(
        self,
        func: Callable[..., Any],
        name: str | None,
        kind: SpanKind,
        capture_input: bool,
        capture_output: bool,
    ) -> None:
        self.name: str = name or str(
            getattr(func, "__qualname__", None) or getattr(func, "__name__", "observed")
        )
        self.kind = kind.value
        self.capture_input = capture_input
        self.capture_output = capture_output
        self.binder = ArgumentBinder(func)


@overload
def observe(func: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def observe(
    *,
    name: str | None = None,
    kind: SpanKind | KindName = SpanKind.CHAIN,
    capture_input: bool = True,
    capture_output: bool = True,
) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def observe(
    func: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    kind: SpanKind | KindName = SpanKind.CHAIN,
    capture_input: bool = True,
    capture_output: bool = True,
) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
    """Trace each call of the decorated function as a span (`@observe` or `@observe(...)`).

    `kind` is one of `semconv.SpanKind` (an unknown kind raises `ValueError` here, at decoration
    time). `capture_input`/`capture_output` can only narrow what `init(capture_content=...)` allows.
    """
    span_kind = SpanKind(kind)

    def decorate(target: Callable[P, R]) -> Callable[P, R]:
        if isinstance(target, (classmethod, staticmethod)):
            return cast("Callable[P, R]", type(target)(decorate(target.__func__)))
        spec = _Spec(target, name, span_kind, capture_input, capture_output)
        if inspect.isasyncgenfunction(target):
            return cast("Callable[P, R]", _wrap_async_generator(target, spec))
        if inspect.isgeneratorfunction(target):
            return cast("Callable[P, R]", _wrap_generator(target, spec))
        if inspect.iscoroutinefunction(target):
            return cast("Callable[P, R]", _wrap_coroutine(target, spec))
        return _wrap_function(target, spec)

    if func is not None:
        return decorate(func)
    return decorate


# -- span bookkeeping shared by every shape ---------------------------------------------------


def _start(runtime: _runtime.Runtime, spec: _Spec, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Span:
    # Attributes one by one after the start: the SDK cleans a str value faster than a dict of them.
    span = runtime.tracer.start_span(spec.name)
    if span.is_recording():
        span.set_attribute(semconv.TT_SPAN_KIND, spec.kind)
        if spec.capture_input and runtime.content.capture:
            with CAPTURE:  # a failure here must not lose the span already started
                runtime.content.put(span, semconv.TT_INPUT, spec.binder.bind(args, kwargs))
    return span


def _put_output(runtime: _runtime.Runtime, spec: _Spec, span: Span, output: object) -> None:
    if spec.capture_output and runtime.content.capture and span.is_recording():
        runtime.content.put(span, semconv.TT_OUTPUT, output)


def _end_ok(runtime: _runtime.Runtime, spec: _Spec, span: Span, output: object) -> None:
    try:
        _put_output(runtime, spec, span, output)
    finally:
        span.end()


def _suppressed() -> bool:
    return bool(get_value(_SUPPRESS_INSTRUMENTATION_KEY))


# -- one wrapper per function shape ------------------------------------------------------------


def _wrap_function(func: Callable[P, R], spec: _Spec) -> Callable[P, R]:
    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        runtime = _runtime.active
        if runtime is None or _suppressed():
            return func(*args, **kwargs)
        span = token = None
        with CAPTURE:
            span = _start(runtime, spec, args, kwargs)
            token = attach(set_span_in_context(span))
        try:
            result = func(*args, **kwargs)
        except BaseException as error:
            with CAPTURE:
                if token is not None:
                    detach(token)
                if span is not None:
                    end_error(span, error, runtime.content)
            raise
        with CAPTURE:
            if token is not None:
                detach(token)
            if span is not None:
                _end_ok(runtime, spec, span, result)
        return result

    return wrapper


def _wrap_coroutine(func: Callable[P, Any], spec: _Spec) -> Callable[P, Any]:
    @functools.wraps(func)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
        runtime = _runtime.active
        if runtime is None or _suppressed():
            return await func(*args, **kwargs)
        span = token = None
        with CAPTURE:
            span = _start(runtime, spec, args, kwargs)
            token = attach(set_span_in_context(span))
        try:
            result = await func(*args, **kwargs)
        except BaseException as error:
            with CAPTURE:
                if token is not None:
                    detach(token)
                if span is not None:
                    end_error(span, error, runtime.content)
            raise
        with CAPTURE:
            if token is not None:
                detach(token)
            if span is not None:
                _end_ok(runtime, spec, span, result)
        return result

    return wrapper


def _wrap_generator(func: Callable[P, Generator[Any, Any, Any]], spec: _Spec) -> Callable[P, Any]:
    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Generator[Any, Any, Any]:
        runtime = _runtime.active
        if runtime is None or _suppressed():
            return (yield from func(*args, **kwargs))
        inner = func(*args, **kwargs)
        span: Span | None = None
        context: Context | None = None
        with CAPTURE:
            span = _start(runtime, spec, args, kwargs)
            context = set_span_in_context(span)
        if span is None or context is None:
            return (yield from inner)
        collect = spec.capture_output and runtime.content.capture
        yielded: list[Any] = []
        to_send: Any = None
        to_throw: BaseException | None = None
        try:
            # The expansion of `yield from` (PEP 380), with our span current only inside `inner`.
            while True:
                token = attach(context)
                try:
                    if to_throw is not None:
                        error, to_throw = to_throw, None
                        item = inner.throw(error)
                    else:
                        item = inner.send(to_send)
                except StopIteration as stop:
                    returned = stop.value
                    break
                finally:
                    detach(token)
                if collect:
                    yielded.append(item)
                try:
                    to_send = yield item
                except GeneratorExit:
                    # Closed early (break, then close() or garbage collection): close `inner` too.
                    token = attach(context)
                    try:
                        inner.close()
                    finally:
                        detach(token)
                    raise
                except BaseException as thrown:
                    to_throw = thrown
        except GeneratorExit:
            with CAPTURE:
                _end_ok(runtime, spec, span, yielded)
            raise
        except BaseException as error:
            with CAPTURE:
                _put_output(runtime, spec, span, yielded)  # what was yielded before the failure
            with CAPTURE:
                end_error(span, error, runtime.content)
            raise
        with CAPTURE:
            _end_ok(runtime, spec, span, yielded)
        return returned

    return wrapper


def _wrap_async_generator(func: Callable[P, AsyncGenerator[Any, Any]], spec: _Spec) -> Callable[P, Any]:
    @functools.wraps(func)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> AsyncGenerator[Any, Any]:
        runtime = _runtime.active
        inner = func(*args, **kwargs)
        span: Span | None = None
        context: Context | None = None
        if runtime is not None and not _suppressed():
            with CAPTURE:
                span = _start(runtime, spec, args, kwargs)
                context = set_span_in_context(span)
        collect = span is not None and spec.capture_output and runtime is not None and runtime.content.capture
        yielded: list[Any] = []
        to_send: Any = None
        to_throw: BaseException | None = None
        try:
            while True:
                token = attach(context) if context is not None else None
                try:
                    if to_throw is not None:
                        error, to_throw = to_throw, None
                        item = await inner.athrow(error)
                    else:
                        item = await inner.asend(to_send)
                except StopAsyncIteration:
                    break
                finally:
                    if token is not None:
                        detach(token)
                if collect:
                    yielded.append(item)
                try:
                    to_send = yield item
                except GeneratorExit:
                    token = attach(context) if context is not None else None
                    try:
                        await inner.aclose()
                    finally:
                        if token is not None:
                            detach(token)
                    raise
                except BaseException as thrown:
                    to_throw = thrown
        except GeneratorExit:
            if span is not None and runtime is not None:
                with CAPTURE:
                    _end_ok(runtime, spec, span, yielded)
            raise
        except BaseException as error:
            if span is not None and runtime is not None:
                with CAPTURE:
                    _put_output(runtime, spec, span, yielded)  # what was yielded before the failure
                with CAPTURE:
                    end_error(span, error, runtime.content)
            raise
        if span is not None and runtime is not None:
            with CAPTURE:
                _end_ok(runtime, spec, span, yielded)

    return wrapper
