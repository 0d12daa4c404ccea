"""`init(gpu=...)`: `GpuOptions` and how the argument and `TOKENTRAIL_GPU*` resolve into a request.

`gpu=None` (the default) defers to `TOKENTRAIL_GPU` (`auto` when unset): on where pynvml imports
and a GPU is present, off otherwise with one info line saying why. `True` or a `GpuOptions`
asks for it (a warning says why when it cannot be had); `False` turns it off. As with the other
settings, a bad argument raises and a bad environment value is logged and replaced by the default.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from tokentrail._internal import logger
from tokentrail.gpu._nvml import Nvml
from tokentrail.gpu._sampler import (
    DEFAULT_HISTORY_S,
    DEFAULT_INTERVAL_S,
    MIN_INTERVAL_S,
    DeviceSelection,
    check_selection,
)

ENV_GPU = "TOKENTRAIL_GPU"
ENV_GPU_INTERVAL_MS = "TOKENTRAIL_GPU_INTERVAL_MS"
DEFAULT_METRICS_INTERVAL_S = 10.0

_AUTO = frozenset({"", "auto"})
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics.export import MetricExporter

GpuMode = Literal["off", "auto", "on"]


@dataclass(frozen=True, slots=True, kw_only=True)
class GpuOptions:
    """GPU figures on, configured: `tokentrail.init(gpu=GpuOptions(interval_s=0.05, devices=[0]))`."""

    interval_s: float | None = None
    """Seconds between samples; None: `TOKENTRAIL_GPU_INTERVAL_MS`, else 0.1 (10 Hz)."""
    devices: DeviceSelection = "process"
    """`"process"`, `"all"` or NVML device indices (see `GpuSampler`)."""
    all_spans: bool = False
    """Figures on every span; by default only on model calls (kind llm or embedding)."""
    metrics: bool = True
    """Send the periodic GPU gauges over OTLP metrics."""
    metrics_interval_s: float = DEFAULT_METRICS_INTERVAL_S
    history_s: float = DEFAULT_HISTORY_S
    """How far back samples are kept: a span longer than this gets no figures."""
    nvml: Nvml | None = field(default=None, repr=False)
    """The NVML to read; None: pynvml (`RealNvml`). Tests pass `tokentrail.gpu.testing.FakeNvml`."""
    metric_exporter: MetricExporter | None = field(default=None, repr=False)
    """Where the gauges go; None: OTLP/HTTP protobuf to `{endpoint}/v1/metrics` with the API key."""

    def __post_init__(self) -> None:
        if self.interval_s is not None:
            _require_seconds("interval_s", self.interval_s, minimum=MIN_INTERVAL_S)
        _require_seconds("metrics_interval_s", self.metrics_interval_s, minimum=0.01)
        _require_seconds("history_s", self.history_s, minimum=self.interval_s or MIN_INTERVAL_S)
        object.__setattr__(self, "devices", check_selection(self.devices))


@dataclass(frozen=True, slots=True)
class GpuRequest:
    mode: GpuMode
    options: GpuOptions
    """With `interval_s` resolved."""


def resolve_gpu_request(environ: Mapping[str, str], gpu: bool | GpuOptions | None) -> GpuRequest:
    if isinstance(gpu, GpuOptions):
        mode: GpuMode = "on"
        options = gpu
    elif gpu is True:
        mode, options = "on", GpuOptions()
    elif gpu is False:
        mode, options = "off", GpuOptions()
    elif gpu is None:
        mode, options = _env_mode(environ), GpuOptions()
    else:
        raise TypeError(f"gpu must be True, False, None or a tokentrail.gpu.GpuOptions, got {gpu!r}")
    if options.interval_s is None:
        options = replace(options, interval_s=_env_interval_s(environ))
    return GpuRequest(mode, options)


def _env_mode(environ: Mapping[str, str]) -> GpuMode:
    raw = environ.get(ENV_GPU)
    value = (raw or "").strip().lower()
    if value in _AUTO:
        return "auto"
    if value in _TRUE:
        return "on"
    if value in _FALSE:
        return "off"
    logger.warning("tokentrail: ignoring %s=%r (expected auto/true/false); using auto", ENV_GPU, raw)
    return "auto"


def _env_interval_s(environ: Mapping[str, str]) -> float:
    raw = environ.get(ENV_GPU_INTERVAL_MS)
    if raw is None or not raw.strip():
        return DEFAULT_INTERVAL_S
    try:
        seconds = float(raw) / 1000
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds >= MIN_INTERVAL_S):
        logger.warning(
            "tokentrail: ignoring %s=%r (expected milliseconds, at least %d); using %d",
            ENV_GPU_INTERVAL_MS,
            raw,
            MIN_INTERVAL_S * 1000,
            DEFAULT_INTERVAL_S * 1000,
        )
        return DEFAULT_INTERVAL_S
    return seconds


def _require_seconds(name: str, value: object, *, minimum: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number of seconds, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum} s, got {value!r}")
