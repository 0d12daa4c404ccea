"""Exception text is content: redacted with capture on, absent with capture off, for `@observe` and
for instrumented provider calls alike; the exception itself reaches the caller untouched."""

from __future__ import annotations

import sys
import traceback
from collections.abc import AsyncIterator, Callable, Iterator

import openai
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

import tokentrail
from tests.instrumentation.helpers import FakeProvider, Reply
from tokentrail import semconv
from tokentrail._content import ContentPolicy

SECRET = "sk-live-4242"


def _redact(text: str) -> str:
    return text.replace(SECRET, "[KEY]")


def _fail(prompt: str) -> None:
    try:
        {}[f"lookup {prompt}"]  # a chained exception's message carries the prompt too
    except KeyError as cause:
        error = ValueError(f"cannot answer {prompt!r}")
        if sys.version_info >= (3, 11):
            error.add_note(f"note: {prompt}")
        raise error from cause


def everything(span: ReadableSpan) -> str:
    """All the text the span would export: name, attributes, status, events."""
    events = [(event.name, dict(event.attributes or {})) for event in span.events]
    return repr((span.name, dict(span.attributes or {}), span.status.description, events))


def exception_event(span: ReadableSpan) -> dict[str, object]:
    (event,) = span.events
    assert event.name == semconv.EXCEPTION_EVENT
    return dict(event.attributes or {})


def finished(exporter: InMemorySpanExporter) -> ReadableSpan:
    assert tokentrail.flush(timeout_s=10)
    (span,) = exporter.get_finished_spans()
    return span


def test_redaction_applies_to_message_stacktrace_and_status(exporter: InMemorySpanExporter) -> None:
    seen: list[str] = []

    def redact(text: str) -> str:
        seen.append(text)
        return _redact(text)

    tokentrail.init(exporter=exporter, redact=redact)

    @tokentrail.observe(name="answer", capture_input=False)
    def answer(prompt: str) -> None:
        _fail(prompt)

    with pytest.raises(ValueError) as caught:
        answer(f"my key is {SECRET}")
    assert SECRET in str(caught.value), "the caller's exception is not redacted"
    assert [frame.name for frame in traceback.extract_tb(caught.value.__traceback__)][-2:] == [
        "answer",
        "_fail",
    ]

    span = finished(exporter)
    assert SECRET not in everything(span)
    assert any(SECRET in text for text in seen), "the hook saw the raw text"
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "ValueError: cannot answer 'my key is [KEY]'"
    event = exception_event(span)
    assert event[semconv.EXCEPTION_MESSAGE] == "cannot answer 'my key is [KEY]'"
    assert event[semconv.EXCEPTION_TYPE] == "ValueError"
    stacktrace = str(event[semconv.EXCEPTION_STACKTRACE])
    assert "in _fail" in stacktrace and "KeyError: 'lookup my key is [KEY]'" in stacktrace
    assert "ValueError: cannot answer 'my key is [KEY]'" in stacktrace


def test_failing_redactor_drops_the_text_but_keeps_the_error(exporter: InMemorySpanExporter) -> None:
    def redact(text: str) -> str:
        raise RuntimeError("redactor bug")

    tokentrail.init(exporter=exporter, redact=redact)

    @tokentrail.observe(name="answer")
    def answer(prompt: str) -> None:
        _fail(prompt)

    with pytest.raises(ValueError):
        answer(SECRET)
    span = finished(exporter)
    assert SECRET not in everything(span)
    assert (span.status.status_code, span.status.description) == (StatusCode.ERROR, "ValueError")
    event = exception_event(span)
    assert semconv.EXCEPTION_MESSAGE not in event
    assert "in _fail" in str(event[semconv.EXCEPTION_STACKTRACE])


@pytest.fixture(params=["argument", "environment"])
def content_off(
    request: pytest.FixtureRequest, exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    if request.param == "argument":
        tokentrail.init(exporter=exporter, capture_content=False, redact=_redact)
    else:
        monkeypatch.setenv("TOKENTRAIL_CAPTURE_CONTENT", "false")
        tokentrail.init(exporter=exporter)


def _sync(prompt: str) -> None:
    _fail(prompt)


async def _async(prompt: str) -> None:
    _fail(prompt)


def _generator(prompt: str) -> Iterator[str]:
    yield "first"
    _fail(prompt)


async def _async_generator(prompt: str) -> AsyncIterator[str]:
    yield "first"
    _fail(prompt)


async def _drive(func: Callable[..., object], prompt: str) -> None:
    result = func(prompt)
    if hasattr(result, "__anext__"):
        async for _ in result:  # type: ignore[attr-defined]
            pass
    elif hasattr(result, "__next__"):
        list(result)  # type: ignore[call-overload]
    elif hasattr(result, "__await__"):
        await result  # type: ignore[misc]


@pytest.mark.parametrize("shape", [_sync, _async, _generator, _async_generator], ids=lambda f: f.__name__)
async def test_capture_off_sends_no_exception_text(
    content_off: None, exporter: InMemorySpanExporter, shape: Callable[..., object]
) -> None:
    observed = tokentrail.observe(name="answer")(shape)
    with pytest.raises(ValueError) as caught:
        await _drive(observed, f"my key is {SECRET}")
    assert f"my key is {SECRET}" in str(caught.value)
    assert isinstance(caught.value.__cause__, KeyError)
    assert traceback.extract_tb(caught.value.__traceback__)[-1].name == "_fail"

    span = finished(exporter)
    assert SECRET not in everything(span) and "my key is" not in everything(span)
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "ValueError"
    assert dict(span.attributes or {})[semconv.ERROR_TYPE] == "ValueError"
    event = exception_event(span)
    assert semconv.EXCEPTION_MESSAGE not in event
    assert event[semconv.EXCEPTION_TYPE] == "ValueError"
    stacktrace = str(event[semconv.EXCEPTION_STACKTRACE])
    assert stacktrace.startswith("Traceback (most recent call last):\n")
    assert "in _fail" in stacktrace and stacktrace.endswith("\nValueError\n")
    assert "KeyError" not in stacktrace, "chained exceptions (and their messages) are left out"


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    with FakeProvider() as fake:
        yield fake


def _provider_error(provider: FakeProvider, client: openai.OpenAI) -> openai.BadRequestError:
    """A 400 whose message echoes the prompt, as providers' validation errors do."""
    provider.script(Reply(status=400, error_message=f"invalid content: {SECRET}"))
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    return caught.value


@pytest.mark.parametrize("capture", [True, False])
def test_provider_error_text_goes_through_the_same_gate(
    exporter: InMemorySpanExporter, provider: FakeProvider, capture: bool
) -> None:
    tokentrail.init(exporter=exporter, capture_content=capture, redact=_redact)
    tokentrail.instrument("openai")
    try:
        with openai.OpenAI(base_url=provider.base_url, api_key="sk-fake", max_retries=0) as client:
            error = _provider_error(provider, client)
    finally:
        tokentrail.uninstrument()
    assert SECRET in str(error)
    span = finished(exporter)
    assert SECRET not in everything(span)
    assert span.status.status_code is StatusCode.ERROR
    assert dict(span.attributes or {})[semconv.HTTP_RESPONSE_STATUS_CODE] == 400
    event = exception_event(span)
    assert event[semconv.EXCEPTION_TYPE] == "openai.BadRequestError"
    if capture:
        assert "invalid content: [KEY]" in str(event[semconv.EXCEPTION_MESSAGE])
        assert "invalid content: [KEY]" in str(span.status.description)
    else:
        assert semconv.EXCEPTION_MESSAGE not in event
        assert span.status.description == "BadRequestError"
        assert "invalid content" not in everything(span)


def test_a_long_exception_message_is_cut_at_the_payload_limit() -> None:
    policy = ContentPolicy(capture=True, redact=None, max_chars=20)
    assert policy.text("x" * 100) == "x" * 20
    assert ContentPolicy(capture=True, redact=str.upper, max_chars=5).text("abcdefgh") == "ABCDE"
    # A stack trace keeps its end, where the exception is named.
    assert policy.text("frames " * 10 + "ValueError: boom", keep_end=True) == "mes ValueError: boom"
