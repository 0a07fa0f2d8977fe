"""Loopback HTTP receivers that stand in for Slack and outbound-webhook endpoints locally.

Dispatch makes real HTTP requests; a sink answers them the way the receiving service does
(Slack's incoming webhooks answer 200 with the body ``ok``) and keeps what it received so the
demo and the tests can show an alert exactly as its recipient would get it.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Sink:
    """A receiver on 127.0.0.1 with a free port; `status` and `reply` set how it answers."""

    name: str
    status: int = 200
    reply: bytes = b"ok"
    deliveries: list[Delivery] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"sink {self.name} is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/{self.name}"

    def start(self) -> None:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the standard library's name
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                sink.deliveries.append(Delivery(self.path, headers, body))
                self.send_response(sink.status)
                self.send_header("content-type", "text/plain")
                self.send_header("content-length", str(len(sink.reply)))
                self.end_headers()
                self.wfile.write(sink.reply)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
