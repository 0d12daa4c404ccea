"""Fixtures for the SDK tests: clean OpenTelemetry globals, a fail-on-internal-error hook,
an in-memory exporter wired through `tokentrail.init`, and a tiny OTLP/HTTP sink on loopback."""

from __future__ import annotations

import gzip
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util._once import Once

import tokentrail
from tokentrail import _internal

# Keep the worker's timer short so tests that wait for it are quick; flush() does not need it.
FAST_SCHEDULE_MS = 50


def _reset_otel_trace_globals() -> None:
    # OpenTelemetry allows one global provider per process; its own test utilities reset it so.
    trace._TRACER_PROVIDER_SET_ONCE = Once()  # noqa: SLF001
    trace._TRACER_PROVIDER = None  # noqa: SLF001


@pytest.fixture(autouse=True)
def clean_tokentrail() -> Iterator[None]:
    _reset_otel_trace_globals()
    yield
    tokentrail.shutdown(timeout_s=5)
    _reset_otel_trace_globals()


@pytest.fixture(autouse=True)
def internal_errors() -> Iterator[list[BaseException]]:
    """Every error tokentrail swallowed during the test; the test fails unless it empties the list."""
    errors: list[BaseException] = []
    previous = _internal.set_internal_error_hook(errors.append)
    yield errors
    _internal.set_internal_error_hook(previous)
    if errors:
        pytest.fail(f"tokentrail swallowed internal errors: {errors!r}")


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def traced(exporter: InMemorySpanExporter) -> Callable[[], list[ReadableSpan]]:
    """`init()` with an in-memory exporter; returns a function that flushes and lists the spans."""
    tokentrail.init(exporter=exporter, schedule_delay_ms=FAST_SCHEDULE_MS)

    def finished() -> list[ReadableSpan]:
        assert tokentrail.flush(timeout_s=10)
        return list(exporter.get_finished_spans())

    return finished


# -- a tiny OTLP/HTTP collector ----------------------------------------------------------------


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes
    spans: list[object]
    resource_attributes: dict[str, object]


@dataclass
class OtlpSink:
    url: str
    requests: list[ReceivedRequest] = field(default_factory=list)
    status: int = 200
    lock: threading.Lock = field(default_factory=threading.Lock)

    def span_names(self) -> list[str]:
        with self.lock:
            return [span.name for request in self.requests for span in request.spans]  # type: ignore[attr-defined]


def _any_value(value: object) -> object:
    kind = value.WhichOneof("value")  # type: ignore[attr-defined]
    if kind == "array_value":
        return tuple(_any_value(v) for v in value.array_value.values)  # type: ignore[attr-defined]
    return getattr(value, kind) if kind else None


def _make_handler(sink: OtlpSink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            body = gzip.decompress(raw) if headers.get("content-encoding") == "gzip" else raw
            message = ExportTraceServiceRequest.FromString(body)
            spans, resource = [], {}
            for resource_spans in message.resource_spans:
                resource = {a.key: _any_value(a.value) for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    spans.extend(scope_spans.spans)
            status = sink.status
            if status == 200:
                with sink.lock:
                    sink.requests.append(ReceivedRequest(self.path, headers, raw, spans, resource))
            reply = ExportTraceServiceResponse().SerializeToString()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    return Handler


@pytest.fixture
def otlp_sink() -> Iterator[OtlpSink]:
    sink = OtlpSink(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(sink))
    server.daemon_threads = True
    sink.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield sink
    server.shutdown()
    server.server_close()


@pytest.fixture
def closed_port_url() -> str:
    """An endpoint on loopback where nothing listens: connections are refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
