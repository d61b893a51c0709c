"""Run an emulator app on a port: blocking for the CLI, or in a daemon thread for tests and benches.

uvicorn with uvloop and httptools when they are installed (several thousand requests/s on two
cores), access log off, no lifespan. `start_in_thread` binds the socket itself, so port 0 gives
a free port that is known before the server answers.
"""

from __future__ import annotations

import importlib.util
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Literal

import uvicorn
from starlette.types import ASGIApp

_READY_TIMEOUT_S = 10.0


def _fast_options() -> tuple[Literal["uvloop", "asyncio"], Literal["httptools", "h11"]]:
    loop: Literal["uvloop", "asyncio"] = (
        "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"
    )
    http: Literal["httptools", "h11"] = (
        "httptools" if importlib.util.find_spec("httptools") is not None else "h11"
    )
    return loop, http


def _config(app: ASGIApp, host: str, port: int, *, log_level: str) -> uvicorn.Config:
    loop, http = _fast_options()
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop=loop,
        http=http,
        lifespan="off",
        access_log=False,
        log_level=log_level,
        server_header=False,
        proxy_headers=False,  # loopback tool: no X-Forwarded-* rewriting per request
        timeout_graceful_shutdown=2,
        # Real APIs sit behind load balancers with ~60 s idle timeouts; uvicorn's 5 s default would
        # close pooled connections under clients that pause (backoff) and cause spurious resets.
        timeout_keep_alive=75,
        backlog=4096,
    )


class RunningServer:
    """An emulator serving in a daemon thread. `stop()` (or leaving the `with`) shuts it down."""

    def __init__(
        self,
        server: uvicorn.Server,
        thread: threading.Thread,
        host: str,
        port: int,
        on_stop: Callable[[], None] | None = None,
    ) -> None:
        self._server = server
        self._on_stop = on_stop
        self._thread = thread
        self.host = host
        self.port = port
        self.url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the server to exit and wait for its thread; forced after half the timeout."""
        if self._on_stop is not None:
            self._on_stop()  # ends injected hangs, which would otherwise hold the shutdown
        self._server.should_exit = True
        self._thread.join(timeout / 2)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout / 2)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_in_thread(app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Serve `app` from a daemon thread; return once it accepts connections."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    server = uvicorn.Server(_config(app, host, bound_port, log_level="warning"))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"emulator-{bound_port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + _READY_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"emulator on {host}:{bound_port} did not start")
        time.sleep(0.005)
    core = getattr(getattr(app, "state", None), "emulator", None)
    release = getattr(getattr(core, "injector", None), "release", None)
    return RunningServer(server, thread, host, bound_port, on_stop=release)


def serve(app: ASGIApp, host: str, port: int) -> None:
    """Serve `app` until SIGINT/SIGTERM (blocking; the CLI's entry)."""
    uvicorn.Server(_config(app, host, port, log_level="info")).run()
