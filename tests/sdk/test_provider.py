"""Which tracer provider tokentrail uses, re-initialisation, sampling and the resource."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NoOpTracerProvider

import tokentrail
from tokentrail import semconv
from tokentrail._sampling import bound_for_rate, is_sampled

from .spans import parent_id


@tokentrail.observe(name="root")
def root_call(i: int) -> int:
    return child_call(i)


@tokentrail.observe(name="child")
def child_call(i: int) -> int:
    return i


def _app_provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def test_own_provider_is_created_and_set_globally(exporter: InMemorySpanExporter) -> None:
    assert not isinstance(trace.get_tracer_provider(), TracerProvider)
    tokentrail.init(exporter=exporter)
    assert isinstance(trace.get_tracer_provider(), TracerProvider)
    with trace.get_tracer("other.lib").start_as_current_span("other-lib-span"):
        root_call(1)
    assert tokentrail.flush()
    assert sorted(s.name for s in exporter.get_finished_spans()) == ["child", "other-lib-span", "root"]


def test_existing_global_provider_is_kept_and_both_exporters_get_spans(
    exporter: InMemorySpanExporter,
) -> None:
    app_provider, app_exporter = _app_provider()
    trace.set_tracer_provider(app_provider)
    tokentrail.init(exporter=exporter)
    assert trace.get_tracer_provider() is app_provider
    with trace.get_tracer("app").start_as_current_span("app-span"):
        root_call(1)
    assert tokentrail.flush()
    names = ["app-span", "child", "root"]
    assert sorted(s.name for s in app_exporter.get_finished_spans()) == names
    assert sorted(s.name for s in exporter.get_finished_spans()) == names


def test_explicit_provider_is_used_and_the_global_left_alone(exporter: InMemorySpanExporter) -> None:
    app_provider, app_exporter = _app_provider()
    tokentrail.init(exporter=exporter, tracer_provider=app_provider)
    assert not isinstance(trace.get_tracer_provider(), TracerProvider)
    root_call(1)
    assert tokentrail.flush()
    assert len(app_exporter.get_finished_spans()) == 2
    assert len(exporter.get_finished_spans()) == 2


def test_non_sdk_global_provider_still_gets_observe_spans(exporter: InMemorySpanExporter) -> None:
    trace.set_tracer_provider(NoOpTracerProvider())
    tokentrail.init(exporter=exporter)
    root_call(1)
    assert tokentrail.flush()
    assert len(exporter.get_finished_spans()) == 2


def test_invalid_arguments_are_refused() -> None:
    with pytest.raises(TypeError):
        tokentrail.init(tracer_provider=NoOpTracerProvider())  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        tokentrail.init(sample_rate=1.5)
    with pytest.raises(ValueError):
        tokentrail.init(max_queue_size=0)


@pytest.mark.parametrize("app_owns_provider", [False, True])
def test_init_twice_reconfigures_without_duplicates(app_owns_provider: bool) -> None:
    if app_owns_provider:
        trace.set_tracer_provider(_app_provider()[0])
    first, second = InMemorySpanExporter(), InMemorySpanExporter()
    # A long timer: the first exporter only gets its span because re-init shuts the old queue down.
    tokentrail.init(exporter=first, schedule_delay_ms=60_000)
    root_call(1)
    tokentrail.init(exporter=second)
    assert [s.name for s in first.get_finished_spans()] == ["child", "root"]
    root_call(2)
    tokentrail.init(exporter=second)
    root_call(3)
    assert tokentrail.flush()
    assert len(first.get_finished_spans()) == 2
    assert sorted(s.name for s in second.get_finished_spans()) == ["child", "child", "root", "root"]
    assert tokentrail.export_stats().exported == 2  # counts restart with each init()


def test_shutdown_then_init_again_works() -> None:
    first, second = InMemorySpanExporter(), InMemorySpanExporter()
    tokentrail.init(exporter=first)
    tokentrail.shutdown()
    root_call(1)  # not traced: tokentrail is off
    tokentrail.init(exporter=second)
    root_call(2)
    assert tokentrail.flush()
    assert first.get_finished_spans() == ()
    assert len(second.get_finished_spans()) == 2


def _traces(spans: tuple[ReadableSpan, ...] | list[ReadableSpan]) -> dict[int, list[str]]:
    result: dict[int, list[str]] = {}
    for span in spans:
        result.setdefault(span.context.trace_id, []).append(span.name)
    return result


def _run_traces(count: int) -> None:
    for i in range(count):
        root_call(i)


@pytest.mark.parametrize("rate", [0.0, 1.0])
def test_sampling_extremes(exporter: InMemorySpanExporter, rate: float) -> None:
    tokentrail.init(exporter=exporter, sample_rate=rate)
    _run_traces(50)
    assert tokentrail.flush()
    assert len(exporter.get_finished_spans()) == (100 if rate == 1.0 else 0)


def test_sample_rate_from_environment(
    exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKENTRAIL_SAMPLE_RATE", "0")
    tokentrail.init(exporter=exporter)
    _run_traces(20)
    assert tokentrail.flush()
    assert exporter.get_finished_spans() == ()


def _assert_consistent_sample(spans: tuple[ReadableSpan, ...], rate: float, traces_run: int) -> None:
    traces = _traces(spans)
    bound = bound_for_rate(rate)
    assert all(sorted(names) == ["child", "root"] for names in traces.values()), "a trace was split"
    assert all(is_sampled(trace_id, bound) for trace_id in traces)
    # Generous sanity bounds around the expected half: a failure here is a broken sampler, not bad luck.
    assert 0.25 * traces_run < len(traces) < 0.75 * traces_run


def test_own_provider_samples_whole_traces_by_trace_id(exporter: InMemorySpanExporter) -> None:
    tokentrail.init(exporter=exporter, sample_rate=0.5)
    _run_traces(300)
    assert tokentrail.flush()
    _assert_consistent_sample(exporter.get_finished_spans(), 0.5, 300)


def test_app_provider_sampled_in_our_processor_consistently(exporter: InMemorySpanExporter) -> None:
    app_provider, app_exporter = _app_provider()
    trace.set_tracer_provider(app_provider)
    tokentrail.init(exporter=exporter, sample_rate=0.5)
    _run_traces(300)
    assert tokentrail.flush()
    assert len(app_exporter.get_finished_spans()) == 600  # the app's own pipeline is untouched
    ours = exporter.get_finished_spans()
    _assert_consistent_sample(ours, 0.5, 300)
    expected = {
        s.context.trace_id
        for s in app_exporter.get_finished_spans()
        if is_sampled(s.context.trace_id, bound_for_rate(0.5))
    }
    assert set(_traces(ours)) == expected


def test_reinit_changes_the_sample_rate_of_our_provider(exporter: InMemorySpanExporter) -> None:
    tokentrail.init(exporter=exporter, sample_rate=0.0)
    _run_traces(10)
    tokentrail.init(exporter=exporter, sample_rate=1.0)
    _run_traces(10)
    assert tokentrail.flush()
    assert len(exporter.get_finished_spans()) == 20


def test_children_follow_the_parent_decision(exporter: InMemorySpanExporter) -> None:
    tokentrail.init(exporter=exporter, sample_rate=0.5)
    _run_traces(100)
    assert tokentrail.flush()
    spans = exporter.get_finished_spans()
    roots = {s.context.span_id for s in spans if s.name == "root"}
    assert {parent_id(s) for s in spans if s.name == "child"} == roots


def test_resource_from_arguments(exporter: InMemorySpanExporter) -> None:
    tokentrail.init(exporter=exporter, service_name="billing-bot", project="acme")
    root_call(1)
    assert tokentrail.flush()
    resource = exporter.get_finished_spans()[0].resource.attributes
    assert resource[semconv.SERVICE_NAME] == "billing-bot"
    assert resource[semconv.TT_PROJECT] == "acme"
    assert semconv.TT_SDK_VERSION in resource


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TOKENTRAIL_SERVICE_NAME": "tt-name", "OTEL_SERVICE_NAME": "otel-name"}, "tt-name"),
        ({"OTEL_SERVICE_NAME": "otel-name"}, "otel-name"),
    ],
)
def test_service_name_from_environment(
    exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    monkeypatch.delenv("TOKENTRAIL_SERVICE_NAME", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("TOKENTRAIL_PROJECT", "from-env")
    tokentrail.init(exporter=exporter)
    root_call(1)
    assert tokentrail.flush()
    resource = exporter.get_finished_spans()[0].resource.attributes
    assert resource[semconv.SERVICE_NAME] == expected
    assert resource[semconv.TT_PROJECT] == "from-env"


def test_reinit_updates_the_resource_of_our_provider(exporter: InMemorySpanExporter) -> None:
    tokentrail.init(exporter=exporter, service_name="first")
    tokentrail.init(exporter=exporter, service_name="second")
    root_call(1)
    assert tokentrail.flush()
    assert exporter.get_finished_spans()[0].resource.attributes[semconv.SERVICE_NAME] == "second"
