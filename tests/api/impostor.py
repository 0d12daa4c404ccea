"""A loopback HTTP server that is not a collector: it answers every path with a fixed status,
content type and body (a web page by default, like the UI's own URL or a proxy's page)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WEB_PAGE = b"<!doctype html><html><head><title>Streamlit</title></head><body>hello</body></html>"


@contextmanager
def impostor(
    status: int = 200, content_type: str = "text/html; charset=utf-8", body: bytes = WEB_PAGE
) -> Iterator[str]:
    """The URL of a server that answers `status` with `body` to any GET, POST, PUT or DELETE."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            self.rfile.read(length)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = _answer  # noqa: N815 - http.server's names

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
            """Quiet: the tests read answers, not logs."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
