"""A scripted OTLP/HTTP collector on loopback: each request gets the next scripted reply (a status,
headers, a partial success, or no answer until released), and every arrival is recorded with its
time and the span ids it carried."""

from __future__ import annotations

import gzip
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    rejected: int = 0
    """With a 2xx: spans refused in the partial success."""
    message: str = ""
    """The partial success's message, or the google.rpc.Status message of an error."""
    hold: threading.Event | None = None
    """Answer only once this is set (a collector that hangs)."""
    delay_s: float = 0.0


@dataclass(frozen=True)
class Arrival:
    monotonic: float
    wall: float
    status: int
    span_ids: list[str]


def span_ids_of(body: bytes) -> list[str]:
    request = ExportTraceServiceRequest.FromString(gzip.decompress(body))
    return [
        span.span_id.hex()
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]


class ScriptedSink:
    def __init__(self, port: int = 0) -> None:
        self.script: deque[Reply] = deque()
        self.default = Reply()
        self.arrivals: list[Arrival] = []
        self.holding = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def next_reply(self) -> Reply:
        with self._lock:
            return self.script.popleft() if self.script else self.default

    def record(self, arrival: Arrival) -> None:
        with self._lock:
            self.arrivals.append(arrival)

    def delivered_span_ids(self) -> list[str]:
        """Span ids of the requests answered 2xx, in arrival order."""
        with self._lock:
            return [i for a in self.arrivals if 200 <= a.status < 300 for i in a.span_ids]

    def statuses(self) -> list[int]:
        with self._lock:
            return [a.status for a in self.arrivals]


def _handler(sink: ScriptedSink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's session expects

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            arrived, wall = time.monotonic(), time.time()
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            reply = sink.next_reply()
            if reply.hold is not None:
                with sink._lock:  # noqa: SLF001 - the sink's own handler
                    sink.holding += 1
                reply.hold.wait(120)
            if reply.delay_s:
                time.sleep(reply.delay_s)
            sink.record(Arrival(arrived, wall, reply.status, span_ids_of(body)))
            if 200 <= reply.status < 300:
                response = ExportTraceServiceResponse()
                if reply.rejected or reply.message:
                    response.partial_success.rejected_spans = reply.rejected
                    response.partial_success.error_message = reply.message
                payload = response.SerializeToString()
            else:
                payload = Status(code=3, message=reply.message).SerializeToString()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    return Handler
