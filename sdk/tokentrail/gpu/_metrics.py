"""Periodic GPU gauges over OTLP metrics, read from the sampler's latest sample (no NVML calls).

Four observable gauges, one point per device with `gpu.index`, `gpu.uuid` and `gpu.name`:
utilisation (%), memory used (By), power (W) and the device's energy counter (J, since the
driver loaded). A reading that is unknown, or a sample too old to stand for now
(`GpuSampler.current()`), is not observed. tokentrail's own `MeterProvider` is used, never the global one, so an application's
metrics setup is left alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricExporter, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

from tokentrail import semconv
from tokentrail._internal import CAPTURE, RateLimitFilter
from tokentrail.gpu._sampler import GpuSampler
from tokentrail.gpu._samples import DeviceReading, GpuDevice

METRICS_PATH = "/v1/metrics"
METER_NAME = "tokentrail.gpu"
_EXPORTER_LOGGER = logging.getLogger(OTLPMetricExporter.__module__)


def build_otlp_metric_exporter(endpoint: str, api_key: str | None) -> OTLPMetricExporter:
    headers = {"authorization": f"Bearer {api_key}"} if api_key else None
    return OTLPMetricExporter(
        endpoint=endpoint.rstrip("/") + METRICS_PATH, headers=headers, compression=Compression.Gzip
    )


class GpuMetrics:
    """A `MeterProvider` of ours exporting the sampler's readings every `interval_s`."""

    def __init__(
        self,
        sampler: GpuSampler,
        exporter: MetricExporter,
        *,
        resource: Resource | None = None,
        interval_s: float = 10.0,
        version: str = "",
    ) -> None:
        self._sampler = sampler
        self._log_limit = RateLimitFilter()
        _EXPORTER_LOGGER.addFilter(self._log_limit)
        reader = PeriodicExportingMetricReader(exporter, export_interval_millis=interval_s * 1000)
        self._provider = MeterProvider(
            metric_readers=[reader], resource=resource or Resource.create(), shutdown_on_exit=False
        )
        meter = self._provider.get_meter(METER_NAME, version)
        gauges: tuple[tuple[str, str, str, Callable[[DeviceReading], float | int | None]], ...] = (
            (semconv.METRIC_GPU_UTILIZATION, "%", "GPU utilisation", lambda r: r.utilization_pct),
            (semconv.METRIC_GPU_MEMORY_USED, "By", "GPU memory used", lambda r: r.memory_used_bytes),
            (semconv.METRIC_GPU_POWER, "W", "GPU power draw", lambda r: r.power_watts),
            (
                semconv.METRIC_GPU_ENERGY,
                "J",
                "GPU energy counter since the driver loaded",
                lambda r: r.energy_joules,
            ),
        )
        for name, unit, description, reading in gauges:
            meter.create_observable_gauge(
                name, callbacks=[self._observer(reading)], unit=unit, description=description
            )

    def _observer(
        self, reading: Callable[[DeviceReading], float | int | None]
    ) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def observe(options: CallbackOptions) -> Iterable[Observation]:
            observations = []
            with CAPTURE:
                for device, value in self._current(reading):
                    observations.append(Observation(value, _device_attributes(device)))
            return observations

        return observe

    def _current(
        self, reading: Callable[[DeviceReading], float | int | None]
    ) -> list[tuple[GpuDevice, float | int]]:
        sample = self._sampler.current()
        if sample is None:
            return []
        current = []
        for device, device_reading in self._sampler.in_use(sample):
            value = reading(device_reading)
            if value is not None:
                current.append((device, value))
        return current

    def force_flush(self, timeout_s: float = 10.0) -> bool:
        return self._provider.force_flush(timeout_millis=timeout_s * 1000)

    def shutdown(self, timeout_s: float = 5.0) -> None:
        """Export the latest readings one last time, then stop."""
        try:
            self._provider.shutdown(timeout_millis=timeout_s * 1000)
        finally:
            _EXPORTER_LOGGER.removeFilter(self._log_limit)


def _device_attributes(device: GpuDevice) -> dict[str, str | int]:
    attributes: dict[str, str | int] = {semconv.GPU_INDEX: device.index}
    if device.uuid is not None:
        attributes[semconv.GPU_UUID] = device.uuid
    if device.name is not None:
        attributes[semconv.GPU_NAME] = device.name
    return attributes
