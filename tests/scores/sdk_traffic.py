"""Traffic through the real SDK into a real collector, for the scores and datasets tests.

`sdk_session(collector, key)` initialises tokentrail against the collector (fresh OpenTelemetry
globals, a hook that collects every error the SDK swallowed), yields, then flushes, shuts down
and fails if anything was swallowed or not delivered. `llm_call` is an `@observe(kind="llm")`
function that records the facts a dataset item keeps.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from opentelemetry import trace

import tokentrail
from tests.sdk.conftest import _reset_otel_trace_globals
from tests.support import CollectorProcess
from tokentrail import _internal


@contextmanager
def sdk_session(collector: CollectorProcess, key: str, *, service_name: str = "shop") -> Iterator[None]:
    """tokentrail initialised against `collector` with `key` for the duration of the block."""
    errors: list[BaseException] = []
    previous = _internal.set_internal_error_hook(errors.append)
    _reset_otel_trace_globals()
    tokentrail.init(endpoint=collector.url, api_key=key, service_name=service_name, schedule_delay_ms=50)
    try:
        yield
        assert tokentrail.flush(timeout_s=30), (tokentrail.export_stats(), tokentrail.score_stats())
    finally:
        tokentrail.shutdown(timeout_s=10)
        _reset_otel_trace_globals()
        _internal.set_internal_error_hook(previous)
    assert not errors, f"tokentrail swallowed internal errors: {errors!r}"


def current_ids() -> tuple[str, str]:
    """(trace id, span id) of the current span, as the API spells them."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


class ModelCallFailed(RuntimeError):
    """Raised by `llm_call(fail=True)` after its span recorded everything; carries the span's ids."""

    def __init__(self, ids: tuple[str, str]) -> None:
        super().__init__("the model call failed")
        self.ids = ids


@tokentrail.observe(kind="llm", name="chat", capture_input=False, capture_output=False)
def llm_call(
    prompt: str,
    answer: str,
    *,
    model: str = "gpt-4o",
    input_tokens: int = 20,
    output_tokens: int = 10,
    cost_usd: float | None = 0.001,
    tags: Iterable[str] = (),
    fail: bool = False,
    delay_s: float = 0.0,
) -> tuple[str, str]:
    """An LLM span with `prompt` as input and `answer` as output; returns its (trace id, span id)."""
    tokentrail.update_current_span(
        model=model,
        provider="openai",
        operation="chat",
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cost_usd=cost_usd,
        input=prompt,
        output=answer,
        tags=list(tags),
    )
    ids = current_ids()
    if delay_s:
        time.sleep(delay_s)
    if fail:
        raise ModelCallFailed(ids)
    return ids
