"""The ops HTTP server: `/metrics`, `/healthz`, `/readyz` (SPEC §8) on one port.

A stdlib `ThreadingHTTPServer` in a daemon thread: it must keep answering while the worker's
event loop is busy or stuck (a liveness probe that shares the loop would lie). Handlers only read
— the registry and `Readiness` are thread-safe — so nothing here blocks a worker.

* `GET /metrics` — the registry in the Prometheus text format (OpenMetrics when asked for).
* `GET /healthz` — 200 `{"status": "alive"}` while the process serves at all.
* `GET /readyz` — 200 when `Readiness.snapshot()` says ready, else 503; the details as JSON.
"""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import structlog
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from processor.ops.readiness import Readiness

log = structlog.get_logger(__name__)


class _OpsHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    registry: CollectorRegistry
    readiness: Readiness


class _OpsHTTPServerV6(_OpsHTTPServer):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _OpsHTTPServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        if path == "/metrics":
            encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
            self._send(200, encoder(self.server.registry), content_type)
        elif path == "/healthz":
            self._send_json(200, {"status": "alive"})
        elif path == "/readyz":
            ready, details = self.server.readiness.snapshot()
            self._send_json(200 if ready else 503, {"status": "ready" if ready else "not_ready", **details})
        else:
            self._send_json(404, {"error": "not found", "routes": ["/metrics", "/healthz", "/readyz"]})

    def do_HEAD(self) -> None:
        self.do_GET()

    def _send_json(self, status: int, body: dict[str, Any]) -> None:
        self._send(status, json.dumps(body).encode(), "application/json")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Probes hit this every few seconds: keep them out of the info log."""
        log.debug("ops_request", request=format % args)


class OpsServer:
    """A running ops server. `port` is the bound port (useful with port 0)."""

    def __init__(self, httpd: _OpsHTTPServer, thread: threading.Thread) -> None:
        self._httpd = httpd
        self._thread = thread
        self.host: str = str(httpd.server_address[0])
        self.port: int = int(httpd.server_address[1])

    def stop(self) -> None:
        """Stop serving and release the port; safe to call twice."""
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        self._httpd.server_close()


def start_ops_server(*, host: str, port: int, registry: CollectorRegistry, readiness: Readiness) -> OpsServer:
    """Bind `host:port` (0 = a free port) and serve in a daemon thread; returns at once."""
    server_class = _OpsHTTPServerV6 if ":" in host else _OpsHTTPServer
    httpd = server_class((host, port), _Handler)
    httpd.registry = registry
    httpd.readiness = readiness
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.5}, name="ops-server", daemon=True
    )
    thread.start()
    server = OpsServer(httpd, thread)
    log.info("ops_server_started", host=server.host, port=server.port)
    return server
