"""GPU figures on spans: the window of each model-call span's lifetime, seen by every exporter."""

from __future__ import annotations

import logging
import time

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import tokentrail
from tokentrail import semconv
from tokentrail.gpu import GpuOptions, GpuSampler
from tokentrail.gpu._install import active_sampler
from tokentrail.gpu._spans import GpuSpanProcessor
from tokentrail.gpu.testing import FakeClock, FakeDevice, FakeNvml, FakeNvmlError

from .conftest import FAST_SCHEDULE_MS, Finished
from .helpers import by_name, gpu_attributes


def provider_with_gpu(
    sampler: GpuSampler, *, all_spans: bool = False
) -> tuple[TracerProvider, InMemorySpanExporter]:
    """A provider whose exporting processor comes *before* the GPU processor: order must not matter."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    processor = GpuSpanProcessor()
    processor.attach(sampler, all_spans=all_spans)
    provider.add_span_processor(processor)
    return provider, exporter


def scripted_sampler(clock: FakeClock, **device: object) -> GpuSampler:
    script: dict[str, object] = dict(
        utilization=[10, 20, 30, 40, 50],
        memory_used_bytes=[100, 500, 300, 200, 100],
        power_watts=[100, 200, 300, 200, 100],
        energy_joules=[1000, 1150, 1400, 1650, 1800],
    )
    script.update(device)
    nvml = FakeNvml([FakeDevice(**script)], clock=clock.seconds)  # type: ignore[arg-type]
    sampler = GpuSampler(
        nvml, interval_s=1.0, wall_clock_ns=clock.wall_ns, monotonic_clock_ns=clock.monotonic_ns
    )
    sampler.open()
    for _ in range(5):
        sampler.sample()
        clock.advance(1)
    return sampler


def model_span(provider: TracerProvider, name: str, start: int, end: int, kind: str = "llm") -> None:
    span = provider.get_tracer("test").start_span(
        name, start_time=start, attributes={semconv.TT_SPAN_KIND: kind}
    )
    span.end(end_time=end)


@pytest.mark.parametrize(
    ("energy", "joules", "source"),
    [([1000, 1150, 1400, 1650, 1800], 650.0, "counter"), (None, 675.0, "integrated")],
    ids=["energy-counter", "integrated-power"],
)
def test_span_figures_match_the_hand_computed_ones(
    clock: FakeClock, caplog: pytest.LogCaptureFixture, energy: list[float] | None, joules: float, source: str
) -> None:
    sampler = scripted_sampler(clock, energy_joules=energy)
    provider, exporter = provider_with_gpu(sampler)
    with caplog.at_level(logging.WARNING):
        model_span(provider, "generate", clock.at(0.5), clock.at(3.5))
    (span,) = exporter.get_finished_spans()
    assert gpu_attributes(span) == {
        semconv.TT_GPU_DEVICES: (0,),
        semconv.TT_GPU_UTIL_AVG: 30.0,
        semconv.TT_GPU_UTIL_MAX: 40.0,
        semconv.TT_GPU_MEMORY_PEAK_BYTES: 500,
        semconv.TT_GPU_POWER_AVG_WATTS: pytest.approx(joules / 3),
        semconv.TT_GPU_ENERGY_JOULES: pytest.approx(joules),
    }
    assert sampler.window(clock.at(0.5), clock.at(3.5)).energy_source == source  # type: ignore[union-attr]
    assert span.attributes[semconv.TT_SPAN_KIND] == "llm"  # type: ignore[index]
    assert not caplog.records  # no "Setting attribute on ended span" from the SDK


def test_only_model_spans_by_default_and_every_span_when_asked(clock: FakeClock) -> None:
    sampler = scripted_sampler(clock)
    provider, exporter = provider_with_gpu(sampler)
    model_span(provider, "llm", clock.at(1), clock.at(2), kind="llm")
    model_span(provider, "embed", clock.at(1), clock.at(2), kind="embedding")
    model_span(provider, "chain", clock.at(1), clock.at(2), kind="chain")
    tracer = provider.get_tracer("other-instrumentation")
    tracer.start_span(
        "genai", start_time=clock.at(1), attributes={semconv.GEN_AI_OPERATION_NAME: "chat"}
    ).end(clock.at(2))
    tracer.start_span("openinference", start_time=clock.at(1), attributes={semconv.OI_SPAN_KIND: "LLM"}).end(
        clock.at(2)
    )
    tracer.start_span("plain", start_time=clock.at(1)).end(clock.at(2))
    spans = by_name(list(exporter.get_finished_spans()))
    with_figures = sorted(name for name, span in spans.items() if gpu_attributes(span))
    assert with_figures == ["embed", "genai", "llm", "openinference"]

    everything, all_exporter = provider_with_gpu(sampler, all_spans=True)
    model_span(everything, "chain", clock.at(1), clock.at(2), kind="chain")
    everything.get_tracer("x").start_span("plain", start_time=clock.at(1)).end(clock.at(2))
    assert all(gpu_attributes(span) for span in all_exporter.get_finished_spans())


def test_a_failing_reading_is_left_off_the_span(clock: FakeClock) -> None:
    sampler = scripted_sampler(clock, utilization=[FakeNvmlError("boom")])
    provider, exporter = provider_with_gpu(sampler)
    model_span(provider, "generate", clock.at(0.5), clock.at(3.5))
    (span,) = exporter.get_finished_spans()
    attributes = gpu_attributes(span)
    assert semconv.TT_GPU_UTIL_AVG not in attributes and semconv.TT_GPU_UTIL_MAX not in attributes
    assert attributes[semconv.TT_GPU_ENERGY_JOULES] == pytest.approx(650)


def test_a_span_the_history_does_not_cover_gets_no_gpu_attributes(clock: FakeClock) -> None:
    sampler = scripted_sampler(clock)
    provider, exporter = provider_with_gpu(sampler)
    model_span(provider, "before-sampling", clock.at(-30), clock.at(2))
    (span,) = exporter.get_finished_spans()
    assert gpu_attributes(span) == {}


def test_a_detached_processor_does_nothing(clock: FakeClock) -> None:
    sampler = scripted_sampler(clock)
    provider, exporter = provider_with_gpu(sampler)
    for processor in provider._active_span_processor._span_processors:  # noqa: SLF001
        if isinstance(processor, GpuSpanProcessor):
            processor.attach(None)
    model_span(provider, "generate", clock.at(1), clock.at(2))
    assert gpu_attributes(exporter.get_finished_spans()[0]) == {}


def test_an_sdk_span_of_an_unexpected_shape_is_logged_once(
    caplog: pytest.LogCaptureFixture, clock: FakeClock
) -> None:
    class OddSpan:  # a span from an SDK whose internals moved
        attributes = {semconv.TT_SPAN_KIND: "llm"}
        start_time = clock.at(1)
        end_time = clock.at(2)

    processor = GpuSpanProcessor()
    processor.attach(scripted_sampler(clock))
    with caplog.at_level(logging.WARNING, logger="tokentrail"):
        processor._on_ending(OddSpan())  # type: ignore[arg-type]  # noqa: SLF001
        processor._on_ending(OddSpan())  # type: ignore[arg-type]  # noqa: SLF001
    assert len([r for r in caplog.records if r.name == "tokentrail"]) == 1


# -- through tokentrail.init -------------------------------------------------------------------


@tokentrail.observe(name="generate", kind="llm")
def generate(seconds: float) -> str:
    time.sleep(seconds)
    return "done"


@tokentrail.observe(name="pipeline")
def pipeline(seconds: float) -> str:
    return generate(seconds)


def steady_nvml() -> FakeNvml:
    """One GPU at 60 %, 2 GiB, 250 W, with an energy counter running at 250 W in real time."""
    return FakeNvml(
        [
            FakeDevice(
                name="Fake H100",
                utilization=60,
                memory_used_bytes=2 * 2**30,
                power_watts=250,
                energy_joules=lambda t: 5000 + 250 * t,
            )
        ]
    )


def test_init_puts_figures_on_model_spans(exporter: InMemorySpanExporter, finished: Finished) -> None:
    nvml = steady_nvml()
    tokentrail.init(
        exporter=exporter,
        schedule_delay_ms=FAST_SCHEDULE_MS,
        gpu=GpuOptions(nvml=nvml, interval_s=0.02, metrics=False),
    )
    assert pipeline(0.3) == "done"
    spans = by_name(finished())
    assert gpu_attributes(spans["pipeline"]) == {}  # a chain span: no figures by default
    figures = gpu_attributes(spans["generate"])
    duration_s = (spans["generate"].end_time - spans["generate"].start_time) / 1e9  # type: ignore[operator]
    assert figures[semconv.TT_GPU_DEVICES] == (0,)
    assert figures[semconv.TT_GPU_UTIL_AVG] == 60
    assert figures[semconv.TT_GPU_UTIL_MAX] == 60
    assert figures[semconv.TT_GPU_MEMORY_PEAK_BYTES] == 2 * 2**30
    assert figures[semconv.TT_GPU_ENERGY_JOULES] == pytest.approx(250 * duration_s, rel=0.05)
    assert figures[semconv.TT_GPU_POWER_AVG_WATTS] == pytest.approx(250, rel=0.05)
    tokentrail.shutdown()
    assert nvml.closes == 1 and active_sampler() is None


def test_the_applications_own_exporter_sees_the_figures_too(
    exporter: InMemorySpanExporter, finished: Finished
) -> None:
    app_exporter = InMemorySpanExporter()
    app_provider = TracerProvider()
    app_provider.add_span_processor(SimpleSpanProcessor(app_exporter))  # added before tokentrail's
    trace.set_tracer_provider(app_provider)
    tokentrail.init(exporter=exporter, gpu=GpuOptions(nvml=steady_nvml(), interval_s=0.02, metrics=False))
    generate(0.1)
    (ours,) = finished()
    (theirs,) = app_exporter.get_finished_spans()
    assert gpu_attributes(ours) and gpu_attributes(ours) == gpu_attributes(theirs)


def test_all_spans_option(exporter: InMemorySpanExporter, finished: Finished) -> None:
    tokentrail.init(
        exporter=exporter, gpu=GpuOptions(nvml=steady_nvml(), interval_s=0.02, all_spans=True, metrics=False)
    )
    pipeline(0.05)
    assert all(gpu_attributes(span) for span in finished())


def test_reinit_replaces_the_sampler_and_releases_the_old_one(
    exporter: InMemorySpanExporter, finished: Finished
) -> None:
    first, second = steady_nvml(), steady_nvml()
    tokentrail.init(exporter=exporter, gpu=GpuOptions(nvml=first, interval_s=0.02, metrics=False))
    tokentrail.init(exporter=exporter, gpu=GpuOptions(nvml=second, interval_s=0.02, metrics=False))
    assert (first.opens, first.closes) == (1, 1)
    assert second.is_open
    generate(0.05)
    (span,) = finished()
    assert gpu_attributes(span)
    tokentrail.init(exporter=exporter, gpu=False)
    assert second.closes == 1 and active_sampler() is None
    generate(0.05)
    assert gpu_attributes(finished()[-1]) == {}
