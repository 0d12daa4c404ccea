"""The public surface of `tokentrail.gpu` is explicit, and importing tokentrail loads no GPU library."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap

import tokentrail
import tokentrail.gpu
import tokentrail.gpu.testing


def test_all_is_pinned() -> None:
    assert tokentrail.gpu.__all__ == [
        "DeviceReading",
        "GpuDevice",
        "GpuFigures",
        "GpuOptions",
        "GpuSampler",
        "GpuUnavailable",
        "Nvml",
        "RealNvml",
        "Sample",
        "SamplerStats",
    ]
    public = {name for name in vars(tokentrail.gpu) if not name.startswith("_")}
    modules = {name for name in public if inspect.ismodule(getattr(tokentrail.gpu, name))}
    assert public - modules == set(tokentrail.gpu.__all__)
    assert modules <= {"testing"}


def test_testing_module_names() -> None:
    for name in ("FakeClock", "FakeDevice", "FakeNvml", "FakeNvmlError"):
        assert hasattr(tokentrail.gpu.testing, name)


def test_init_takes_gpu_as_a_keyword() -> None:
    parameter = inspect.signature(tokentrail.init).parameters["gpu"]
    assert parameter.kind is inspect.Parameter.KEYWORD_ONLY and parameter.default is None


def test_fake_nvml_satisfies_the_protocol() -> None:
    assert isinstance(tokentrail.gpu.testing.FakeNvml(), tokentrail.gpu.Nvml)
    assert isinstance(tokentrail.gpu.RealNvml(), tokentrail.gpu.Nvml)


def test_import_loads_neither_pynvml_nor_the_metrics_sdk() -> None:
    script = textwrap.dedent(
        """
        import sys, threading
        import tokentrail, tokentrail.gpu
        assert "pynvml" not in sys.modules
        assert "opentelemetry.sdk.metrics" not in sys.modules
        assert threading.active_count() == 1, threading.enumerate()
        print("clean")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "clean"
