"""Fixtures for the GPU tests: the SDK tests' fixtures (clean OpenTelemetry globals, the
fail-on-swallowed-error hook), a fake clock and NVML, and a tiny OTLP/HTTP sink that decodes
metrics requests."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import tokentrail
from tests.sdk.conftest import clean_tokentrail, closed_port_url, exporter, internal_errors  # noqa: F401
from tokentrail.gpu.testing import FakeClock

FAST_SCHEDULE_MS = 50


@pytest.fixture(autouse=True)
def clean_gpu_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TOKENTRAIL_GPU", "TOKENTRAIL_GPU_INTERVAL_MS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


Finished = Callable[[], list[ReadableSpan]]


@pytest.fixture
def finished(exporter: InMemorySpanExporter) -> Finished:  # noqa: F811 - the imported fixture
    """Flushes tokentrail and lists the spans the in-memory exporter got."""

    def spans() -> list[ReadableSpan]:
        assert tokentrail.flush(timeout_s=10)
        return list(exporter.get_finished_spans())

    return spans


# -- a tiny OTLP/HTTP metrics sink -------------------------------------------------------------


@dataclass
class MetricsRequest:
    path: str
    headers: dict[str, str]
    message: ExportMetricsServiceRequest


@dataclass
class MetricsSink:
    url: str
    requests: list[MetricsRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def received(self) -> list[MetricsRequest]:
        with self.lock:
            return list(self.requests)


def _make_handler(sink: MetricsSink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            body = gzip.decompress(raw) if headers.get("content-encoding") == "gzip" else raw
            if self.path == "/v1/metrics":
                message = ExportMetricsServiceRequest.FromString(body)
                with sink.lock:
                    sink.requests.append(MetricsRequest(self.path, headers, message))
                reply = ExportMetricsServiceResponse().SerializeToString()
            else:  # traces: accepted and ignored here
                reply = b""
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    return Handler


@pytest.fixture
def metrics_sink() -> Iterator[MetricsSink]:
    sink = MetricsSink(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(sink))
    server.daemon_threads = True
    sink.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield sink
    tokentrail.shutdown(timeout_s=5)  # the last gauges go out before the sink stops listening
    server.shutdown()
    server.server_close()
