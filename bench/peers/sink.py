"""A local OTLP/HTTP sink that answers every export at once and counts the spans it received.

Each SDK under test exports to `http://127.0.0.1:<port>/<variant>` (its exporter appends its own
path: `/v1/traces`, `/api/public/otel/v1/traces`, ...), so the first path segment names the variant
and `GET /counts` returns the spans delivered per variant, split into the decorated function's spans
(name starting with `work`) and the rest (the LLM call's). Posts that are not traces (metrics, logs)
are answered and counted as requests only. Runs with the project's venv (it decodes OTLP protobuf).

    python bench/peers/sink.py --port 4318
"""

from __future__ import annotations

import argparse
import gzip
import json
import threading
import zlib
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

COUNTS: Counter[str] = Counter()
LOCK = threading.Lock()


def count_spans(body: bytes, content_type: str) -> tuple[int, int]:
    """(decorated spans, other spans) in one OTLP trace export, protobuf or JSON."""
    names: list[str] = []
    if "json" in content_type:
        for resource in json.loads(body).get("resourceSpans", []):
            for scope in resource.get("scopeSpans", []):
                names.extend(span.get("name", "") for span in scope.get("spans", []))
    else:
        request = ExportTraceServiceRequest.FromString(body)
        for resource in request.resource_spans:
            for scope in resource.scope_spans:
                names.extend(span.name for span in scope.spans)
    decorated = sum(1 for name in names if name.startswith("work"))
    return decorated, len(names) - decorated


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        variant = self.path.strip("/").split("/")[0]
        with LOCK:
            COUNTS[f"{variant}.requests"] += 1
        if self.path.endswith("/traces"):
            decorated, other = count_spans(body, self.headers.get("Content-Type", ""))
            with LOCK:
                COUNTS[f"{variant}.decorated"] += decorated
                COUNTS[f"{variant}.llm"] += other
        self.answer(b"", "application/x-protobuf")  # an empty Export*ServiceResponse

    def do_GET(self) -> None:  # noqa: N802
        with LOCK:
            body = json.dumps(dict(COUNTS)).encode()
        self.answer(body, "application/json")

    def answer(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Sink)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
