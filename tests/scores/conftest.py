"""Fixtures of the scores tests: the SDK tests' clean globals and fail-on-swallowed-error hook, and a
small JSON sink on loopback standing in for `POST /api/scores` (it can answer errors or hold requests)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.sdk.conftest import clean_tokentrail, closed_port_url, internal_errors  # noqa: F401


@dataclass
class ScoreSink:
    url: str = ""
    status: int = 200
    posts: list[tuple[str, dict[str, str], list[dict[str, object]]]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    entered: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Answers given before `status`, one per post: (status, Retry-After header or None).
    failures: list[tuple[int, str | None]] = field(default_factory=list)
    attempts: list[float] = field(default_factory=list)  # monotonic time of every post

    def scores(self) -> list[dict[str, object]]:
        with self.lock:
            return [score for _path, _headers, batch in self.posts for score in batch]


def _handler(sink: ScoreSink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            sink.entered.set()
            sink.release.wait(30)
            with sink.lock:
                sink.attempts.append(time.monotonic())
                status, retry_after = sink.failures.pop(0) if sink.failures else (sink.status, None)
                if status == 200:
                    sink.posts.append(
                        (self.path, {k.lower(): v for k, v in self.headers.items()}, json.loads(body))
                    )
            reply = b'{"score_ids": []}'
            self.send_response(status)
            if retry_after is not None:
                self.send_header("Retry-After", retry_after)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    return Handler


@pytest.fixture
def score_sink() -> Iterator[ScoreSink]:
    sink = ScoreSink()
    sink.release.set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(sink))
    server.daemon_threads = True
    sink.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield sink
    sink.release.set()
    server.shutdown()
    server.server_close()
