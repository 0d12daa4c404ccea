"""`init(gpu=...)` and `TOKENTRAIL_GPU*`: on where it can be, off with one line saying why, never failing."""

from __future__ import annotations

import logging
import sys

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import tokentrail
from tokentrail.gpu import GpuOptions, GpuUnavailable, RealNvml
from tokentrail.gpu._install import active_sampler
from tokentrail.gpu._options import resolve_gpu_request
from tokentrail.gpu.testing import FakeDevice, FakeNvml

from .conftest import Finished
from .helpers import gpu_attributes


@tokentrail.observe(name="generate", kind="llm")
def generate() -> str:
    return "ok"


def gpu_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "tokentrail" and "GPU" in r.getMessage()]


def nvml_driver_present() -> bool:
    nvml = RealNvml()
    try:
        nvml.open()
    except GpuUnavailable:
        return False
    nvml.close()
    return True


def test_auto_without_pynvml_is_off_with_one_info_line(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    exporter: InMemorySpanExporter,
    finished: Finished,
) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml now raises ImportError
    with caplog.at_level(logging.DEBUG, logger="tokentrail"):
        tokentrail.init(exporter=exporter)
    (line,) = gpu_lines(caplog)
    assert line.levelno == logging.INFO
    assert "GPU figures are off: pynvml is not installed" in line.getMessage()
    assert active_sampler() is None
    generate()
    (span,) = finished()
    assert gpu_attributes(span) == {}


@pytest.mark.skipif(nvml_driver_present(), reason="an NVIDIA driver is present here")
def test_auto_without_a_driver_is_off_with_one_info_line(
    caplog: pytest.LogCaptureFixture, exporter: InMemorySpanExporter, finished: Finished
) -> None:
    with caplog.at_level(logging.DEBUG, logger="tokentrail"):
        tokentrail.init(exporter=exporter)  # the real pynvml, on a machine without a GPU
    (line,) = gpu_lines(caplog)
    assert line.levelno == logging.INFO
    assert "no NVIDIA driver" in line.getMessage() or "driver is not loaded" in line.getMessage()
    generate()
    assert gpu_attributes(finished()[0]) == {}


def test_asked_for_but_no_device_is_off_with_one_warning(
    caplog: pytest.LogCaptureFixture, exporter: InMemorySpanExporter, finished: Finished
) -> None:
    nvml = FakeNvml(devices=[])
    with caplog.at_level(logging.DEBUG, logger="tokentrail"):
        tokentrail.init(exporter=exporter, gpu=GpuOptions(nvml=nvml))
    (line,) = gpu_lines(caplog)
    assert line.levelno == logging.WARNING
    assert "no NVIDIA GPU found" in line.getMessage()
    assert (nvml.opens, nvml.closes) == (1, 1)  # released at once
    generate()
    assert gpu_attributes(finished()[0]) == {}


def test_gpu_false_asks_nothing_of_nvml(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)
    with caplog.at_level(logging.DEBUG, logger="tokentrail"):
        tokentrail.init(exporter=InMemorySpanExporter(), gpu=False)
    assert gpu_lines(caplog) == []


@pytest.mark.parametrize(
    ("env", "mode"),
    [
        (None, "auto"),
        ("auto", "auto"),
        ("", "auto"),
        ("true", "on"),
        ("1", "on"),
        ("off", "off"),
        ("FALSE", "off"),
    ],
)
def test_environment_picks_the_mode(monkeypatch: pytest.MonkeyPatch, env: str | None, mode: str) -> None:
    environ = {} if env is None else {"TOKENTRAIL_GPU": env}
    assert resolve_gpu_request(environ, None).mode == mode


def test_explicit_argument_wins_over_the_environment() -> None:
    environ = {"TOKENTRAIL_GPU": "false", "TOKENTRAIL_GPU_INTERVAL_MS": "250"}
    assert resolve_gpu_request(environ, True).mode == "on"
    assert resolve_gpu_request(environ, True).options.interval_s == 0.25
    assert resolve_gpu_request(environ, GpuOptions(interval_s=0.05)).options.interval_s == 0.05
    assert resolve_gpu_request({}, None).options.interval_s == 0.1


def test_bad_environment_values_are_logged_and_replaced(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="tokentrail"):
        request = resolve_gpu_request({"TOKENTRAIL_GPU": "maybe", "TOKENTRAIL_GPU_INTERVAL_MS": "fast"}, None)
    assert request.mode == "auto" and request.options.interval_s == 0.1
    text = caplog.text
    assert "TOKENTRAIL_GPU='maybe'" in text and "TOKENTRAIL_GPU_INTERVAL_MS='fast'" in text
    assert (
        resolve_gpu_request({"TOKENTRAIL_GPU_INTERVAL_MS": "1"}, None).options.interval_s == 0.1
    )  # below 10 ms


def test_interval_from_the_environment_reaches_the_sampler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKENTRAIL_GPU_INTERVAL_MS", "40")
    tokentrail.init(
        exporter=InMemorySpanExporter(), gpu=GpuOptions(nvml=FakeNvml([FakeDevice()]), metrics=False)
    )
    sampler = active_sampler()
    assert sampler is not None and sampler.interval_s == 0.04


def test_bad_arguments_raise() -> None:
    with pytest.raises(TypeError):
        tokentrail.init(exporter=InMemorySpanExporter(), gpu="yes")  # type: ignore[arg-type]
    for bad in ({"interval_s": 0.001}, {"devices": "mine"}, {"metrics_interval_s": 0}, {"history_s": -1}):
        with pytest.raises(ValueError):
            GpuOptions(**bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        GpuOptions(0.1)  # type: ignore[misc]  # keyword-only


def test_a_broken_nvml_never_breaks_init(
    exporter: InMemorySpanExporter, finished: Finished, internal_errors: list[BaseException]
) -> None:
    class BrokenNvml(FakeNvml):
        def device_count(self) -> int:
            raise RuntimeError("bug in a custom Nvml")

    tokentrail.init(exporter=exporter, gpu=GpuOptions(nvml=BrokenNvml()))
    assert generate() == "ok"
    assert len(finished()) == 1
    assert [type(e) for e in internal_errors] == [RuntimeError]  # reported, swallowed
    internal_errors.clear()
