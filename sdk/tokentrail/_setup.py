"""`init()`, `flush()`, `shutdown()` and `export_stats()`: wiring tokentrail into OpenTelemetry.

Which provider: the one named by `tracer_provider=`, else the global SDK provider the application
set up (kept, never replaced; tokentrail only adds its processor and samples in it), else a new
provider of ours, set globally, with a `ParentBased(TraceIdRatioBased)` sampler. A second `init()`
replaces the export queue (the old one is shut down first) and reuses the processor, so spans
are never exported twice.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
import weakref
from collections.abc import Iterable
from importlib import metadata

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased

from tokentrail import _runtime, _scores, instrumentation, semconv
from tokentrail._config import (
    DEFAULT_MAX_EXPORT_BATCH_SIZE,
    DEFAULT_MAX_QUEUE_SIZE,
    DEFAULT_SCHEDULE_DELAY_MS,
    Redactor,
    Settings,
    resolve_settings,
)
from tokentrail._content import ContentPolicy
from tokentrail._export_queue import ExportQueue, ExportStats
from tokentrail._internal import CAPTURE, logger
from tokentrail._otlp import OtlpHttpSender, build_otlp_sender
from tokentrail._processor import TokentrailSpanProcessor
from tokentrail._sampling import AdjustableRatioSampler
from tokentrail._spool import Spool
from tokentrail._spool_options import SpoolOptions, resolve_spool
from tokentrail.gpu import _install as _gpu
from tokentrail.gpu._options import GpuOptions, resolve_gpu_request

TRACER_NAME = "tokentrail"
RECONFIGURE_TIMEOUT_S = 5.0
EXIT_TIMEOUT_S = 5.0
_DISTRIBUTION = "tokentrail"


class _Installation:
    """What one `init()` set up, torn down by the next `init()` or `shutdown()`."""

    def __init__(self, processor: TokentrailSpanProcessor, queue: ExportQueue) -> None:
        self.processor = processor
        self.queue = queue

    def close(self, timeout_s: float, *, keep_exporter: SpanExporter | None = None) -> None:
        _runtime.active = None
        _gpu.stop(timeout_s)
        _scores.stop(timeout_s=timeout_s)
        self.processor.route_to(None)
        self.queue.shutdown(timeout_s, shutdown_exporter=self.queue.exporter is not keep_exporter)


_lock = threading.RLock()
_installation: _Installation | None = None
_last_queue: ExportQueue | None = None
_atexit_registered = False
# Providers tokentrail created (their sampler is ours to adjust) and the processor on each provider.
_own_samplers: weakref.WeakKeyDictionary[TracerProvider, AdjustableRatioSampler] = weakref.WeakKeyDictionary()
_processors: weakref.WeakKeyDictionary[TracerProvider, TokentrailSpanProcessor] = weakref.WeakKeyDictionary()


def init(
    *,
    endpoint: str | None = None,
    api_key: str | None = None,
    project: str | None = None,
    service_name: str | None = None,
    capture_content: bool | None = None,
    redact: Redactor | None = None,
    sample_rate: float | None = None,
    max_payload_chars: int | None = None,
    max_queue_size: int = DEFAULT_MAX_QUEUE_SIZE,
    max_export_batch_size: int = DEFAULT_MAX_EXPORT_BATCH_SIZE,
    schedule_delay_ms: int = DEFAULT_SCHEDULE_DELAY_MS,
    exporter: SpanExporter | None = None,
    tracer_provider: TracerProvider | None = None,
    gpu: bool | GpuOptions | None = None,
    instrument: bool | Iterable[str] | None = None,
    spool: bool | None = None,
    spool_dir: str | os.PathLike[str] | None = None,
    spool_max_bytes: int | None = None,
) -> None:
    """Start sending spans to tokentrail; calling it again reconfigures.

    Unset arguments come from the `TOKENTRAIL_*` environment variables. Invalid arguments raise
    `ValueError`/`TypeError`; anything failing inside is logged and leaves tokentrail inactive.
    `gpu`: GPU figures on spans and GPU gauges (`tokentrail.gpu.GpuOptions`); None: `TOKENTRAIL_GPU`, auto.
    `instrument`: client libraries to auto-instrument (`tokentrail.instrument()`): True for every supported
    one that is installed, or names (`["openai", "anthropic"]`); None/False patches nothing more.
    `spool`: keep spans the collector cannot take on disk (`spool_dir`, at most `spool_max_bytes`),
    across restarts, until it can; None: `TOKENTRAIL_SPOOL` (on), `TOKENTRAIL_SPOOL_DIR` (a folder
    per collector and service under the user's cache directory), `TOKENTRAIL_SPOOL_MAX_BYTES` (128 MiB).
    Applies to tokentrail's own sender, not to an `exporter=` of the application's.
    """
    settings = resolve_settings(
        os.environ,
        endpoint=endpoint,
        api_key=api_key,
        project=project,
        service_name=service_name,
        capture_content=capture_content,
        redact=redact,
        sample_rate=sample_rate,
        max_payload_chars=max_payload_chars,
        max_queue_size=max_queue_size,
        max_export_batch_size=max_export_batch_size,
        schedule_delay_ms=schedule_delay_ms,
    )
    if tracer_provider is not None and not isinstance(tracer_provider, TracerProvider):
        raise TypeError("tracer_provider must be an opentelemetry.sdk.trace.TracerProvider")
    gpu_request = resolve_gpu_request(os.environ, gpu)
    spool_options = resolve_spool(
        os.environ, settings, spool=spool, spool_dir=spool_dir, spool_max_bytes=spool_max_bytes
    )
    libraries = _libraries_to_instrument(instrument)
    global _installation, _last_queue, _atexit_registered
    with _lock, CAPTURE:
        if _installation is not None:
            previous, _installation = _installation, None
            previous.close(RECONFIGURE_TIMEOUT_S, keep_exporter=exporter)
        provider = _choose_provider(settings, tracer_provider)
        own_sampler = _own_samplers.get(provider)
        processor = _processors.get(provider)
        if processor is None:
            processor = TokentrailSpanProcessor()
            provider.add_span_processor(processor)
            _processors[provider] = processor

        queue = _export_queue(settings, exporter, spool_options)
        _installation = _Installation(processor, queue)
        _last_queue = queue
        # On a provider of ours the sampler already decided; on the application's, we decide.
        processor.route_to(queue, sample_rate=None if own_sampler is not None else settings.sample_rate)
        _runtime.active = _runtime.Runtime(
            tracer=provider.get_tracer(TRACER_NAME, _sdk_version()),
            content=ContentPolicy(
                capture=settings.capture_content,
                redact=settings.redact,
                max_chars=settings.max_payload_chars,
            ),
        )
        _gpu.start(gpu_request, provider=provider, endpoint=settings.endpoint, api_key=settings.api_key)
        _scores.start(settings)
        if libraries is not None:
            instrumentation.instrument(*libraries)
        if not _atexit_registered:
            atexit.register(_flush_at_exit)
            _atexit_registered = True


def flush(*, timeout_s: float = 10.0) -> bool:
    """Deliver the spans and scores queued so far; True if all were delivered within `timeout_s`."""
    installation = _installation
    if installation is None:
        return True
    with CAPTURE:
        deadline = time.monotonic() + timeout_s
        spans_done = installation.queue.flush(timeout_s)
        return _scores.flush(timeout_s=max(deadline - time.monotonic(), 0.0)) and spans_done
    return False


def shutdown(*, timeout_s: float = 10.0) -> None:
    """Deliver what is queued (waiting at most `timeout_s`) and stop; `@observe` then passes through."""
    global _installation
    with _lock, CAPTURE:
        if _installation is not None:
            previous, _installation = _installation, None
            previous.close(timeout_s)


def export_stats() -> ExportStats:
    """Export counts since the last `init()` (kept after `shutdown()`)."""
    queue = _last_queue
    return queue.stats() if queue is not None else ExportStats()


def _export_queue(
    settings: Settings, exporter: SpanExporter | None, spool: SpoolOptions | None
) -> ExportQueue:
    """The application's exporter as it is, else tokentrail's own sender with its spool."""
    if exporter is not None:
        transport: SpanExporter | OtlpHttpSender = exporter
        rebuild_after_fork = None
    else:
        transport = build_otlp_sender(settings)
        rebuild_after_fork = lambda: build_otlp_sender(settings)  # noqa: E731
    return ExportQueue(
        transport,
        max_queue_size=settings.max_queue_size,
        max_export_batch_size=settings.max_export_batch_size,
        schedule_delay_s=settings.schedule_delay_ms / 1000,
        spool=Spool(spool.directory, spool.max_bytes) if spool is not None and exporter is None else None,
        exporter_factory_after_fork=rebuild_after_fork,
    )


def _libraries_to_instrument(instrument: bool | Iterable[str] | None) -> list[str] | None:
    """`init(instrument=...)` as library names (validated now, so a typo raises); None: none."""
    if instrument is None or instrument is False:
        return None
    if instrument is True:
        return instrumentation.resolve(())
    if isinstance(instrument, str):
        return instrumentation.resolve((instrument,))
    if not isinstance(instrument, Iterable):
        raise TypeError(f"instrument must be a bool or library names, got {instrument!r}")
    return instrumentation.resolve(instrument) if instrument else None


def _flush_at_exit() -> None:
    shutdown(timeout_s=EXIT_TIMEOUT_S)


def _choose_provider(settings: Settings, explicit: TracerProvider | None) -> TracerProvider:
    if explicit is not None:
        provider = explicit
    else:
        current = trace.get_tracer_provider()
        provider = current if isinstance(current, TracerProvider) else _create_global_provider(settings)
    own_sampler = _own_samplers.get(provider)
    if own_sampler is not None:
        own_sampler.set_rate(settings.sample_rate)
        # A provider cannot be swapped once global; give its tracers the new resource instead.
        provider._update_resource(_resource(settings))  # noqa: SLF001
    return provider


def _create_global_provider(settings: Settings) -> TracerProvider:
    sampler = AdjustableRatioSampler(settings.sample_rate)
    provider = TracerProvider(sampler=ParentBased(root=sampler), resource=_resource(settings))
    _own_samplers[provider] = sampler
    trace.set_tracer_provider(provider)
    if trace.get_tracer_provider() is not provider:
        logger.warning(
            "tokentrail: a non-SDK tracer provider is already set globally; @observe spans go to "
            "tokentrail's own provider, spans of other instrumentations do not reach tokentrail"
        )
    return provider


def _resource(settings: Settings) -> Resource:
    attributes: dict[str, str] = {semconv.TT_SDK_VERSION: _sdk_version()}
    if settings.service_name:
        attributes[semconv.SERVICE_NAME] = settings.service_name
    if settings.project:
        attributes[semconv.TT_PROJECT] = settings.project
    return Resource.create(attributes)


def _sdk_version() -> str:
    try:
        return metadata.version(_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "0+unknown"
