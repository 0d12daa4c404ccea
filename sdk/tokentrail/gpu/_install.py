"""What `init(gpu=...)` starts and `shutdown()` stops: the sampler, the span hook and the gauges.

The span processor is added once per tracer provider (a provider cannot drop a processor) and
pointed at the current sampler, or at none while GPU figures are off. Neither function raises:
whatever fails is logged, and tracing goes on without GPU figures.
"""

from __future__ import annotations

import logging
import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

from opentelemetry.sdk.trace import TracerProvider

from tokentrail._internal import CAPTURE, logger
from tokentrail.gpu._nvml import GpuUnavailable
from tokentrail.gpu._options import GpuRequest
from tokentrail.gpu._sampler import DEFAULT_INTERVAL_S, GpuSampler
from tokentrail.gpu._spans import GpuSpanProcessor, on_ending_supported

if TYPE_CHECKING:
    from tokentrail.gpu._metrics import GpuMetrics


# The last gauge export at shutdown retries while the collector is down; the last readings are
# not worth holding up the application's exit for longer than this.
FINAL_METRICS_EXPORT_S = 1.0


@dataclass(frozen=True, slots=True)
class _Running:
    sampler: GpuSampler
    processor: GpuSpanProcessor | None
    metrics: GpuMetrics | None


_lock = threading.Lock()
_running: _Running | None = None
_processors: weakref.WeakKeyDictionary[TracerProvider, GpuSpanProcessor] = weakref.WeakKeyDictionary()


def start(request: GpuRequest, *, provider: TracerProvider, endpoint: str, api_key: str | None) -> None:
    """Start GPU figures as `request` says (stopping any running ones first); never raises."""
    global _running
    stop()
    if request.mode == "off":
        return
    with _lock, CAPTURE:
        options = request.options
        sampler = GpuSampler(
            options.nvml,
            interval_s=options.interval_s if options.interval_s is not None else DEFAULT_INTERVAL_S,
            devices=options.devices,
            history_s=options.history_s,
        )
        try:
            sampler.start()
        except GpuUnavailable as reason:
            level = logging.INFO if request.mode == "auto" else logging.WARNING
            logger.log(level, "tokentrail: GPU figures are off: %s", reason)
            return
        try:
            processor = _attach_span_processor(provider, sampler, all_spans=options.all_spans)
            metrics = None
            if options.metrics:
                # Imported here: the metrics SDK and its exporter load only where GPU figures are on.
                from tokentrail.gpu._metrics import GpuMetrics, build_otlp_metric_exporter

                exporter = options.metric_exporter or build_otlp_metric_exporter(endpoint, api_key)
                metrics = GpuMetrics(
                    sampler, exporter, resource=provider.resource, interval_s=options.metrics_interval_s
                )
        except BaseException:
            sampler.stop()
            raise
        _running = _Running(sampler, processor, metrics)
        logger.info(
            "tokentrail: GPU figures on: %s, sampled every %g ms",
            ", ".join(f"GPU {device.index} ({device.name or 'unnamed'})" for device in sampler.devices),
            sampler.interval_s * 1000,
        )


def stop(timeout_s: float = 5.0) -> None:
    """Detach the span hook, send the gauges one last time, stop sampling and release NVML."""
    global _running
    with _lock:
        running, _running = _running, None
    if running is None:
        return
    with CAPTURE:
        if running.processor is not None:
            running.processor.attach(None)
        try:
            if running.metrics is not None:
                running.metrics.shutdown(min(timeout_s, FINAL_METRICS_EXPORT_S))
        finally:
            running.sampler.stop()


def active_sampler() -> GpuSampler | None:
    """The sampler `init()` started, while it runs (for tests and benchmarks)."""
    running = _running
    return running.sampler if running is not None else None


def _attach_span_processor(
    provider: TracerProvider, sampler: GpuSampler, *, all_spans: bool
) -> GpuSpanProcessor | None:
    if not on_ending_supported():
        logger.warning(
            "tokentrail: this opentelemetry-sdk has no span-ending hook; upgrade it to get GPU "
            "figures on spans (GPU metrics are sent all the same)"
        )
        return None
    processor = _processors.get(provider)
    if processor is None:
        processor = GpuSpanProcessor()
        provider.add_span_processor(processor)
        _processors[provider] = processor
    processor.attach(sampler, all_spans=all_spans)
    return processor
