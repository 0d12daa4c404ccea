"""Recording an exception on a span, through the same content gate as every captured text.

An exception's message often carries the very text capture is about (``ValueError(f"bad {prompt}")``,
a provider error echoing the request), and a formatted stack trace repeats it in its last line and
in every chained exception's. So, for `@observe` and the instrumented clients alike:

- capture on: the message, the full stack trace and the status description (``Type: message``)
  each pass the redaction hook; a text the hook fails on is dropped (the status keeps the type, the
  event gets the frames-only stack trace below), never sent raw.
- capture off: `error.type`, `exception.type` and an error status naming the type only; no message
  and a stack trace made of frames only (file, line, function and source line: code, not content;
  no exception message, no chained exceptions, no notes).

The exception itself is only read, never touched: the caller gets the same object and traceback.
"""

from __future__ import annotations

import traceback

from opentelemetry.trace import Span, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from tokentrail import semconv
from tokentrail._content import ContentPolicy

_STR_FAILED = "<str() failed>"


def end_error(span: Span, error: BaseException, content: ContentPolicy) -> None:
    """Mark `span` failed with `error` (type, status, exception event), then end it.

    Only an `Exception` is recorded; a `BaseException` (KeyboardInterrupt, cancellation) just ends
    the span, its status left as is.
    """
    try:
        if isinstance(error, Exception) and span.is_recording():
            _record(span, error, content)
    finally:
        span.end()


def _record(span: Span, error: Exception, content: ContentPolicy) -> None:
    error_type = type(error).__qualname__
    module = type(error).__module__
    qualified = f"{module}.{error_type}" if module and module != "builtins" else error_type
    span.set_attribute(semconv.ERROR_TYPE, error_type)
    message = stacktrace = None
    if content.capture:
        message = content.text(_safe_str(error))
        stacktrace = content.text(_full_stacktrace(error), keep_end=True)
    event: dict[str, AttributeValue] = {
        semconv.EXCEPTION_TYPE: qualified,
        semconv.EXCEPTION_STACKTRACE: stacktrace
        if stacktrace is not None
        else _frames_only(error, qualified),
        semconv.EXCEPTION_ESCAPED: "True",
    }
    if message is not None:
        event[semconv.EXCEPTION_MESSAGE] = message
    span.set_status(
        Status(StatusCode.ERROR, f"{error_type}: {message}" if message is not None else error_type)
    )
    span.add_event(semconv.EXCEPTION_EVENT, event)


def _safe_str(error: BaseException) -> str:
    try:
        return str(error)
    except Exception:
        return _STR_FAILED


def _full_stacktrace(error: BaseException) -> str:
    try:
        return "".join(traceback.format_exception(error))
    except Exception:  # a chained exception's own __str__ or __repr__ may misbehave too
        return _frames_only(error, type(error).__qualname__)


def _frames_only(error: BaseException, qualified_type: str) -> str:
    """A stack trace without any value in it: the frames of `error`'s traceback and its type."""
    frames = "".join(traceback.format_tb(error.__traceback__))
    return f"Traceback (most recent call last):\n{frames}{qualified_type}\n"
