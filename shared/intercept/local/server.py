"""`intercept serve`: the template's HTTP routes on 127.0.0.1, like `sam local start-api`.

Requests go through the local runtime as API Gateway events; a background thread keeps
delivering queue messages and stream records, so a webhook sent to the server flows all the
way to a score and a dispatched action without anything else to run.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from intercept.local.runtime import LocalRuntime
from intercept.observability import logger


def make_server(runtime: LocalRuntime, host: str, port: int) -> ThreadingHTTPServer:
    """An HTTP server that hands every request to `runtime.http`."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            path, _, query = self.path.partition("?")
            headers: dict[str, str] = {}
            for name, value in self.headers.items():
                key = name.lower()
                headers[key] = f"{headers[key]},{value}" if key in headers else value
            answer = runtime.http(self.command, path, headers=headers, body=body, query=query)
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                if name not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("content-length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


class Pump(threading.Thread):
    """Keeps delivering SQS messages and stream records in the background."""

    def __init__(self, runtime: LocalRuntime, interval: float = 0.25) -> None:
        super().__init__(daemon=True, name="intercept-pump")
        self._runtime = runtime
        self._interval = interval
        self._stop = threading.Event()

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                moved = self._runtime.pump_once()
            except Exception:
                logger.exception("failed delivery round")
                moved = 0
            if not moved:
                self._stop.wait(self._interval)

    def stop(self) -> None:
        self._stop.set()
