"""instrument()/uninstrument(): nothing patched at import, idempotent, originals restored, one registry."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

import anthropic
import openai
import pytest
import wrapt
from anthropic.resources.messages import messages as anthropic_messages
from openai.resources import embeddings as openai_embeddings
from openai.resources.chat.completions import completions as openai_chat
from openai.resources.responses import responses as openai_responses
from opentelemetry import context as otel_context
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import tokentrail
from tests.instrumentation.helpers import ANTHROPIC_QUESTION, QUESTION, Finished, llm_spans
from tokentrail.instrumentation.anthropic import AnthropicInstrumentor

OPENAI_METHODS = [
    (resource, name)
    for module, base, names in (
        (openai_chat, "Completions", ("create", "parse")),
        (openai_responses, "Responses", ("create", "parse")),
        (openai_embeddings, "Embeddings", ("create",)),
    )
    for resource in (getattr(module, base), getattr(module, "Async" + base))
    for name in names
]
ANTHROPIC_METHODS = [
    (resource, name)
    for resource in (anthropic_messages.Messages, anthropic_messages.AsyncMessages)
    for name in ("create", "parse", "stream")
]
ALL_METHODS = OPENAI_METHODS + ANTHROPIC_METHODS


def originals() -> list[object]:
    return [vars(resource)[name] for resource, name in ALL_METHODS]


def test_import_and_init_patch_nothing() -> None:
    script = textwrap.dedent(
        """
        import sys
        import tokentrail
        assert "openai" not in sys.modules and "anthropic" not in sys.modules and "wrapt" not in sys.modules
        from openai.resources.chat.completions.completions import Completions
        from anthropic.resources.messages.messages import Messages
        before = (vars(Completions)["create"], vars(Messages)["create"], vars(Messages)["stream"])
        import tokentrail.instrumentation
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        tokentrail.init(exporter=InMemorySpanExporter())
        after = (vars(Completions)["create"], vars(Messages)["create"], vars(Messages)["stream"])
        assert before == after and all(type(f).__name__ == "function" for f in after), after
        tokentrail.shutdown()
        print("clean")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "clean"


def test_instrument_is_idempotent_and_uninstrument_restores() -> None:
    before = originals()
    assert tokentrail.instrument() == ["anthropic", "openai"]
    wrapped = originals()
    for original, wrapper in zip(before, wrapped, strict=True):
        assert isinstance(wrapper, wrapt.FunctionWrapper)
        assert wrapper.__wrapped__ is original
    assert tokentrail.instrument("openai", "anthropic") == ["anthropic", "openai"]
    assert originals() == wrapped  # not wrapped twice
    tokentrail.uninstrument()
    assert all(now is then for now, then in zip(originals(), before, strict=True))
    tokentrail.uninstrument()  # a second time: nothing to do, nothing raised
    assert all(now is then for now, then in zip(originals(), before, strict=True))


def test_one_library_at_a_time() -> None:
    before = originals()
    assert tokentrail.instrument("anthropic") == ["anthropic"]
    now = originals()
    assert now[: len(OPENAI_METHODS)] == before[: len(OPENAI_METHODS)]
    assert all(isinstance(method, wrapt.FunctionWrapper) for method in now[len(OPENAI_METHODS) :])
    tokentrail.uninstrument("anthropic")
    assert originals() == before


def test_init_instrument_argument(exporter: InMemorySpanExporter, openai_client: openai.OpenAI) -> None:
    tokentrail.init(exporter=exporter, instrument=["openai"])
    assert isinstance(vars(openai_chat.Completions)["create"], wrapt.FunctionWrapper)
    assert not isinstance(vars(anthropic_messages.Messages)["create"], wrapt.FunctionWrapper)
    openai_client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
    tokentrail.init(exporter=exporter, instrument=True)  # reconfigure: adds the rest
    assert isinstance(vars(anthropic_messages.Messages)["create"], wrapt.FunctionWrapper)
    tokentrail.flush()
    assert len(llm_spans(list(exporter.get_finished_spans()))) == 1


def test_bad_names_raise() -> None:
    with pytest.raises(ValueError, match="mistral"):
        tokentrail.instrument("mistral")
    with pytest.raises(ValueError, match="mistral"):
        tokentrail.init(exporter=InMemorySpanExporter(), instrument=["openai", "mistral"])
    with pytest.raises(TypeError):
        tokentrail.init(exporter=InMemorySpanExporter(), instrument=5)  # type: ignore[arg-type]
    assert not isinstance(vars(openai_chat.Completions)["create"], wrapt.FunctionWrapper)


def test_missing_library_is_skipped_with_one_debug_line(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(AnthropicInstrumentor, "library", "anthropic_is_not_installed")
    caplog.set_level(logging.DEBUG, logger="tokentrail")
    assert tokentrail.instrument() == ["openai"]
    lines = [record for record in caplog.records if "not installed" in record.getMessage()]
    assert len(lines) == 1 and lines[0].levelno == logging.DEBUG
    assert "anthropic_is_not_installed" in lines[0].getMessage()


def test_before_init_and_after_shutdown_calls_pass_through(
    exporter: InMemorySpanExporter, openai_client: openai.OpenAI, anthropic_client: anthropic.Anthropic
) -> None:
    tokentrail.instrument()
    reply = openai_client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
    assert reply.choices[0].message.content
    stream = anthropic_client.messages.create(
        model="claude-haiku-4-5", max_tokens=9, messages=ANTHROPIC_QUESTION, stream=True
    )
    assert type(stream) is anthropic.Stream  # no proxy when nothing is traced
    list(stream)
    tokentrail.init(exporter=exporter)
    openai_client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
    tokentrail.shutdown()
    openai_client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
    assert len(llm_spans(list(exporter.get_finished_spans()))) == 1


def test_suppressed_instrumentation_records_nothing(openai_client: openai.OpenAI, traced: Finished) -> None:
    tokentrail.instrument()
    token = otel_context.attach(otel_context.set_value(otel_context._SUPPRESS_INSTRUMENTATION_KEY, True))
    try:
        openai_client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
    finally:
        otel_context.detach(token)
    assert llm_spans(traced()) == []


def test_wrapper_left_beneath_another_is_inert(openai_client: openai.OpenAI, traced: Finished) -> None:
    tokentrail.instrument("openai")
    calls: list[str] = []

    def theirs(wrapped, instance, args, kwargs):  # type: ignore[no-untyped-def]
        calls.append("theirs")
        return wrapped(*args, **kwargs)

    handle = wrapt.wrap_function_wrapper(openai_chat, "Completions.create", theirs)
    try:
        tokentrail.uninstrument("openai")
        openai_client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
        assert calls == ["theirs"]
        assert llm_spans(traced()) == []
    finally:
        wrapt.unwrap_object(openai_chat, "Completions.create", handle)
    assert not isinstance(vars(openai_chat.Completions)["create"], wrapt.FunctionWrapper)
