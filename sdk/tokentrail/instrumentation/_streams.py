"""Streams handed back to the caller inside a `wrapt.ObjectProxy`, never patched in place.

The caller gets the provider's own chunks and events, one by one, and every attribute and method
of the stream (`response`, `close()`, the context manager, `isinstance` checks). Passing through,
each item is shown to the call's accumulator. The span ends exactly once: when the stream is
exhausted, fails (the caller gets the stream's own error), is closed, leaves its `with` block, or
is garbage collected after an early `break`.

`StreamManagerProxy` covers helpers that open the stream only on `__enter__` (Anthropic's
`messages.stream()`): the span starts there, around the request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any

import wrapt

from tokentrail._internal import CAPTURE, report_internal_error
from tokentrail.instrumentation._call import (
    Accumulator,
    LLMCall,
    Operation,
    Switch,
    call_traced,
    call_traced_async,
    enabled,
    finish_stream,
)


class _Observed(wrapt.ObjectProxy[Any]):
    """State and ending shared by the sync and async stream proxies."""

    def __init__(self, stream: Any, call: LLMCall, accumulator: Accumulator) -> None:
        super().__init__(stream)
        self._self_call: LLMCall | None = call
        self._self_accumulator = accumulator
        # The accumulator's `add`, looked up once (it runs for every chunk); None once the span ended.
        self._self_add: Callable[[Any], None] | None = accumulator.add

    def _self_finish(self, error: BaseException | None) -> None:
        call = self._self_call
        if call is None:
            return
        self._self_call = self._self_add = None
        finish_stream(call, self._self_accumulator, error)

    def __del__(self) -> None:
        # Dropped before the end (an early `break`): the span ends now, as closed.
        try:
            call = self._self_call
        except AttributeError:  # __init__ did not finish
            return
        if call is not None:
            self._self_finish(None)


class StreamProxy(_Observed):
    """A provider's synchronous stream as the caller sees it."""

    def __iter__(self) -> Iterator[Any]:
        # A generator, like the streams' own `__iter__`: resuming one costs less per chunk than a
        # `__next__` call. Both read the stream's one underlying iterator, so they can be mixed.
        return self._self_iterate()

    def _self_iterate(self) -> Iterator[Any]:
        add = self._self_add
        try:
            for item in self.__wrapped__:
                if add is not None:
                    try:
                        add(item)
                    except Exception as error:  # ours: reported, swallowed; the chunk still goes out
                        report_internal_error(error)
                yield item
        except GeneratorExit:  # the loop was left (`break`): the stream may be read on later
            raise
        except BaseException as error:
            self._self_finish(error)
            raise
        self._self_finish(None)

    def __next__(self) -> Any:
        try:
            item = self.__wrapped__.__next__()
        except StopIteration:
            self._self_finish(None)
            raise
        except BaseException as error:
            self._self_finish(error)
            raise
        add = self._self_add  # inlined: this runs for every chunk
        if add is not None:
            try:
                add(item)
            except Exception as error:  # ours: reported, swallowed; the chunk still reaches the caller
                report_internal_error(error)
        return item

    def close(self) -> Any:
        try:
            return self.__wrapped__.close()
        finally:
            self._self_finish(None)

    def __enter__(self) -> StreamProxy:
        self.__wrapped__.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Any:
        try:
            return self.__wrapped__.__exit__(exc_type, exc, tb)
        finally:
            self._self_finish(None)


class AsyncStreamProxy(_Observed):
    """A provider's asynchronous stream as the caller sees it."""

    def __aiter__(self) -> AsyncStreamProxy:
        return self

    async def __anext__(self) -> Any:
        try:
            item = await self.__wrapped__.__anext__()
        except StopAsyncIteration:
            self._self_finish(None)
            raise
        except BaseException as error:
            self._self_finish(error)
            raise
        add = self._self_add  # inlined: this runs for every chunk
        if add is not None:
            try:
                add(item)
            except Exception as error:  # ours: reported, swallowed; the chunk still reaches the caller
                report_internal_error(error)
        return item

    async def close(self) -> Any:
        try:
            return await self.__wrapped__.close()
        finally:
            self._self_finish(None)

    async def __aenter__(self) -> AsyncStreamProxy:
        await self.__wrapped__.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Any:
        try:
            return await self.__wrapped__.__aexit__(exc_type, exc, tb)
        finally:
            self._self_finish(None)


class StreamManagerProxy(wrapt.ObjectProxy[Any]):
    """A context manager whose `__enter__`/`__aenter__` sends the request and returns the stream.

    Leaving the block closes the stream inside the library, out of the stream proxy's sight, so
    the span is ended here too (once: a stream that ended already ended it).
    """

    def __init__(
        self, manager: Any, operation: Operation, switch: Switch, request: Mapping[str, Any]
    ) -> None:
        super().__init__(manager)
        self._self_operation = operation
        self._self_switch = switch
        self._self_request = request
        self._self_stream: Any = None

    def __enter__(self) -> Any:
        runtime = enabled(self._self_switch)
        enter = self.__wrapped__.__enter__
        if runtime is None:
            return enter()
        stream = call_traced(runtime, self._self_operation, self._self_request, True, enter, (), {})
        self._self_stream = stream
        return stream

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Any:
        try:
            return self.__wrapped__.__exit__(exc_type, exc, tb)
        finally:
            self._self_end_stream()

    async def __aenter__(self) -> Any:
        runtime = enabled(self._self_switch)
        enter = self.__wrapped__.__aenter__
        if runtime is None:
            return await enter()
        stream = await call_traced_async(
            runtime, self._self_operation, self._self_request, True, enter, (), {}
        )
        self._self_stream = stream
        return stream

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Any:
        try:
            return await self.__wrapped__.__aexit__(exc_type, exc, tb)
        finally:
            self._self_end_stream()

    def _self_end_stream(self) -> None:
        stream, self._self_stream = self._self_stream, None
        if isinstance(stream, _Observed):
            stream._self_finish(None)


def helper_close_wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`close()` of a helper stream over ours (openai's `ChatCompletionStream`, `ResponseStream`): it
    closes the HTTP response beneath, out of our proxy's sight, so the span is ended here too."""
    try:
        return wrapped(*args, **kwargs)
    finally:
        _finish_helper(instance)


async def async_helper_close_wrapper(
    wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """`helper_close_wrapper` for the async helper streams."""
    try:
        return await wrapped(*args, **kwargs)
    finally:
        _finish_helper(instance)


def _finish_helper(helper: object) -> None:
    stream = getattr(helper, "_raw_stream", None)
    if isinstance(stream, _Observed):
        stream._self_finish(None)


def manager_wrapper(operation: Operation, switch: Switch) -> Any:
    """The wrapt wrapper of a method returning a stream manager (the request waits for `__enter__`)."""

    def wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        manager = wrapped(*args, **kwargs)
        if enabled(switch) is None:
            return manager
        with CAPTURE:
            return StreamManagerProxy(manager, operation, switch, kwargs)
        return manager

    return wrapper
