"""The per-call path shared by every instrumented client method: one span per model call.

`Operation` describes one instrumented method, decided once at instrument time: provider, GenAI
operation, span kind, and the provider module's readers for its request, its result and (for
streams) its chunks. `LLMCall` is one call in flight: it owns the span and the helpers the readers
use. `sync_wrapper` / `async_wrapper` are the wrapt wrappers: before `init()`, while the instrumentor
is off, or while instrumentation is suppressed, they just call the method. The caller's exception
is re-raised as is; errors of ours are swallowed by `CAPTURE`.
"""

from __future__ import annotations

import time
from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY, attach, detach, get_value
from opentelemetry.trace import INVALID_SPAN, Span, SpanKind, set_span_in_context
from opentelemetry.util.types import AttributeValue

from tokentrail import _runtime, semconv
from tokentrail._content import ContentPolicy
from tokentrail._errors import end_error
from tokentrail._internal import CAPTURE
from tokentrail.instrumentation._parts import Message, messages_text
from tokentrail.instrumentation._tokens import estimate_tokens

Kwargs = Mapping[str, Any]
_NUMBERS = frozenset({int, float})


class Accumulator(Protocol):
    """Reads a stream's items as they pass, and puts what they said on the span at the end."""

    def add(self, item: Any) -> None: ...

    def record(self, call: LLMCall) -> None: ...


class Switch(Protocol):
    active: bool


@dataclass(frozen=True, slots=True)
class Operation:
    provider: str  # gen_ai.provider.name
    name: str  # gen_ai.operation.name, and the first word of the span name
    kind: str  # tokentrail.span.kind
    read_request: Callable[[LLMCall, Kwargs], None]
    read_result: Callable[[LLMCall, Any], None]
    accumulator: Callable[[LLMCall], Accumulator] | None = None
    stream_types: tuple[type, ...] = ()  # results that are streams, handed back in `stream_proxy`
    stream_proxy: Callable[[Any, LLMCall, Accumulator], Any] | None = None
    attributes: dict[str, AttributeValue] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The attributes every span of this operation starts with, copied per call.
        common = {
            semconv.TT_SPAN_KIND: self.kind,
            semconv.GEN_AI_OPERATION_NAME: self.name,
            semconv.GEN_AI_PROVIDER_NAME: self.provider,
        }
        object.__setattr__(self, "attributes", common)


class LLMCall:
    """One model call in flight: its span and what the provider readers need to fill it.

    Attributes are collected in `pending` and handed to the span in bulk (one lock, one pass in
    the SDK), first as the span starts, then as it ends: a third of the cost of one call each.
    """

    __slots__ = ("span", "content", "start_ns", "streaming", "first_token_ns", "input_messages", "pending")

    def __init__(
        self, content: ContentPolicy, start_ns: int, streaming: bool, pending: dict[str, Any]
    ) -> None:
        self.span: Span = INVALID_SPAN
        self.content = content
        self.start_ns = start_ns
        self.streaming = streaming
        self.first_token_ns: int | None = None
        # A stream's input messages, kept for a local token estimate should the stream report no usage.
        self.input_messages: list[Message] | None = None
        self.pending = pending

    @property
    def capture(self) -> bool:
        return self.content.capture

    @property
    def attributes(self) -> Mapping[str, Any]:
        """What the span has and will have (the content policy reads it to mark truncations)."""
        recorded = getattr(self.span, "attributes", None)
        return ChainMap(self.pending, recorded) if recorded else self.pending

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        self.pending[key] = value

    def set(self, key: str, value: AttributeValue | None) -> None:
        if value is not None:
            self.pending[key] = value

    def set_params(self, kwargs: Kwargs, names: Mapping[str, str]) -> None:
        """Numeric request parameters: each keyword argument named in `names`, under its attribute key.
        Anything not an int or float (the clients' "not given" sentinels, None) is left out."""
        pending = self.pending
        for key, value in kwargs.items():
            attribute = names.get(key)
            if attribute is not None and value.__class__ in _NUMBERS:
                pending[attribute] = value

    def set_stop_sequences(self, value: object) -> None:
        if isinstance(value, str):
            self.pending[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] = (value,)
        elif isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
            self.pending[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] = tuple(value)

    def put(self, key: str, value: object) -> None:
        """Content (messages, tool definitions): through the capture switch, redaction and size limit."""
        self.content.put(self, key, value)

    def first_token(self) -> None:
        if self.first_token_ns is None:
            self.first_token_ns = time.time_ns()

    def set_usage(
        self,
        input_tokens: int | None,
        output_tokens: int | None,
        *,
        cache_read: int | None = None,
        cache_creation: int | None = None,
        reasoning: int | None = None,
        total: int | None = None,
    ) -> None:
        """Token counts as the provider reported them; `input_tokens` includes cached input."""
        pending = self.pending
        if input_tokens.__class__ is int:
            pending[semconv.GEN_AI_USAGE_INPUT_TOKENS] = input_tokens
        if output_tokens.__class__ is int:
            pending[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] = output_tokens
        if cache_read.__class__ is int:
            pending[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = cache_read
        if cache_creation.__class__ is int:
            pending[semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = cache_creation
        if reasoning.__class__ is int:
            pending[semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = reasoning
        if total.__class__ is int:
            pending[semconv.GEN_AI_USAGE_TOTAL_TOKENS] = total

    def set_estimated_usage(self, output_text: str, *, input_tokens: int | None = None) -> None:
        """Usage counted locally, for a stream that reported none (or only the input's); flagged."""
        if input_tokens is None:
            input_tokens = estimate_tokens(messages_text(self.input_messages or ()))
        output_tokens = estimate_tokens(output_text)
        self.set_usage(input_tokens, output_tokens, total=input_tokens + output_tokens)
        self.pending[semconv.TT_TOKENS_ESTIMATED] = True

    def set_time_to_first_token(self, fallback_ns: int | None) -> None:
        first = self.first_token_ns or fallback_ns
        if first is not None:
            self.pending[semconv.TT_TIME_TO_FIRST_TOKEN_MS] = (first - self.start_ns) / 1e6

    def begin(self, span: Span) -> None:
        """The span has started with what was pending; collect what comes next afresh."""
        self.span = span
        self.pending = {}

    def end(self) -> None:
        try:
            if self.pending:
                self.span.set_attributes(self.pending)
                self.pending = {}
        finally:
            self.span.end()

    def fail(self, error: BaseException) -> None:
        status_code = getattr(error, "status_code", None)
        if status_code.__class__ is int:
            self.pending[semconv.HTTP_RESPONSE_STATUS_CODE] = status_code
        try:
            if self.pending:
                self.span.set_attributes(self.pending)
                self.pending = {}
        finally:
            end_error(self.span, error, self.content)  # error.type, status, exception event; ends the span


def start_call(runtime: _runtime.Runtime, operation: Operation, kwargs: Kwargs, streaming: bool) -> LLMCall:
    """Start the call's span (a child of the current context) with what the request says."""
    model = kwargs.get("model")
    if model.__class__ is not str:
        model = None
    start_ns = time.time_ns()
    pending = operation.attributes.copy()
    if model:
        pending[semconv.GEN_AI_REQUEST_MODEL] = model
    pending[semconv.TT_IS_STREAMING] = streaming
    call = LLMCall(runtime.content, start_ns, streaming, pending)
    with CAPTURE:  # a failure reading the request must not cost the span
        operation.read_request(call, kwargs)
    name = f"{operation.name} {model}" if model else operation.name
    call.begin(
        runtime.tracer.start_span(name, kind=SpanKind.CLIENT, attributes=call.pending, start_time=start_ns)
    )
    return call


def complete(operation: Operation, call: LLMCall, result: Any) -> Any:
    """The result to hand back: a stream in its proxy (the span ends with it), else the result as
    it came, the span ended."""
    if call.streaming and isinstance(result, operation.stream_types) and call.span.is_recording():
        proxy = operation.stream_proxy
        accumulator = operation.accumulator
        if proxy is not None and accumulator is not None:
            try:
                return proxy(result, call, accumulator(call))
            except Exception:
                call.end()  # the caller gets the bare stream; the span is not left open
                raise
    try:
        if call.span.is_recording():
            operation.read_result(call, result)
    finally:
        call.end()
    return result


def finish_stream(call: LLMCall, accumulator: Accumulator, error: BaseException | None) -> None:
    """End a streamed call with what its accumulator saw (and the stream's error, if it failed)."""
    with CAPTURE:
        accumulator.record(call)
    with CAPTURE:
        if error is None:
            call.end()
        else:
            call.fail(error)


def enabled(switch: Switch) -> _runtime.Runtime | None:
    """The runtime if this call is to be traced: tokentrail initialised, instrumentor on, not suppressed."""
    runtime = _runtime.active
    if runtime is None or not switch.active or get_value(_SUPPRESS_INSTRUMENTATION_KEY):
        return None
    return runtime


def call_traced(
    runtime: _runtime.Runtime,
    operation: Operation,
    request: Kwargs,
    streaming: bool,
    invoke: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
) -> Any:
    """`invoke(*args, **kwargs)` inside the call's span (current while it runs); the result as `complete`
    hands it back. `request` is what the span is read from: the method's keyword arguments."""
    call, token = _enter(runtime, operation, request, streaming)
    try:
        result = invoke(*args, **kwargs)
    except BaseException as error:
        _fail(call, token, error)
        raise
    return _finish(operation, call, token, result)


async def call_traced_async(
    runtime: _runtime.Runtime,
    operation: Operation,
    request: Kwargs,
    streaming: bool,
    invoke: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
) -> Any:
    """`call_traced` for a coroutine function."""
    call, token = _enter(runtime, operation, request, streaming)
    try:
        result = await invoke(*args, **kwargs)
    except BaseException as error:
        _fail(call, token, error)
        raise
    return _finish(operation, call, token, result)


def _enter(
    runtime: _runtime.Runtime, operation: Operation, request: Kwargs, streaming: bool
) -> tuple[LLMCall | None, object]:
    """Start the call's span and make it current; (None, None) if that failed inside tokentrail."""
    call = token = None
    with CAPTURE:
        call = start_call(runtime, operation, request, streaming)
        token = attach(set_span_in_context(call.span))
    return call, token


def _fail(call: LLMCall | None, token: object, error: BaseException) -> None:
    with CAPTURE:
        if token is not None:
            detach(token)  # type: ignore[arg-type]
        if call is not None:
            call.fail(error)


def _finish(operation: Operation, call: LLMCall | None, token: object, result: Any) -> Any:
    """The result as the caller gets it: `complete`'s (a stream proxy, say), or unchanged on our failure."""
    if call is None:
        return result
    with CAPTURE:
        if token is not None:
            detach(token)  # type: ignore[arg-type]
    with CAPTURE:
        return complete(operation, call, result)
    return result


def sync_wrapper(operation: Operation, switch: Switch) -> Callable[..., Any]:
    """The wrapt wrapper of a method returning its result (or a stream) directly."""

    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        runtime = enabled(switch)
        if runtime is None:
            return wrapped(*args, **kwargs)
        return call_traced(runtime, operation, kwargs, kwargs.get("stream") is True, wrapped, args, kwargs)

    return wrapper


def async_wrapper(operation: Operation, switch: Switch) -> Callable[..., Any]:
    """The wrapt wrapper of a coroutine method."""

    async def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        runtime = enabled(switch)
        if runtime is None:
            return await wrapped(*args, **kwargs)
        streaming = kwargs.get("stream") is True
        return await call_traced_async(runtime, operation, kwargs, streaming, wrapped, args, kwargs)

    return wrapper
