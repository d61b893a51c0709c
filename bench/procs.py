"""Child processes of the benchmark: emulators and workers, all on 127.0.0.1, none left behind.

Every process is started through `Children`, which stops them in reverse order on exit, on an
exception and on Ctrl-C (SIGTERM first, SIGKILL after a grace period). Each child gets its own
session so that a Ctrl-C in the terminal reaches the bench first, which then stops them itself.
`peak_rss_mb` reads VmHWM (the kernel's high-water mark of resident memory) from /proc.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import IO

ROOT = Path(__file__).resolve().parents[1]
CORDIAL_KEY = "bench-cordial-key"
SEGMENT_KEY = "bench-segment-write-key"
KEY_ENV = {"CORDIAL_API_KEY": CORDIAL_KEY, "SEGMENT_WRITE_KEY": SEGMENT_KEY}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_listening(port: int, process: subprocess.Popen[bytes], what: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout_s} s")


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM of a live process in MiB, or None when it has gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


LIVE: dict[int, subprocess.Popen[bytes]] = {}
"""Every child not yet stopped, by pid, across all `Children` (for the last-resort `kill_all`)."""


def kill_all(extra_pids: tuple[int, ...] = ()) -> None:
    """SIGKILL every live child (and `extra_pids`): the watchdog's answer to a stuck shutdown."""
    for pid in [*LIVE, *extra_pids]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


class Children:
    """Starts child processes and guarantees they are stopped (context manager)."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self._procs: list[tuple[str, subprocess.Popen[bytes], IO[bytes]]] = []

    def __enter__(self) -> Children:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop_all()

    def start(
        self, name: str, command: list[str], env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = (self.log_dir / f"{name}.log").open("ab")
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **KEY_ENV, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._procs.append((name, process, log))
        LIVE[process.pid] = process
        return process

    def stop(self, process: subprocess.Popen[bytes], grace_s: float = 15.0) -> int | None:
        """SIGTERM, wait up to `grace_s`, then SIGKILL; returns the exit code."""
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(grace_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                process.wait(5)
        LIVE.pop(process.pid, None)
        for i, (_, known, log) in enumerate(self._procs):
            if known is process:
                log.close()
                del self._procs[i]
                break
        return process.returncode

    def stop_all(self) -> None:
        for _, process, _ in reversed(list(self._procs)):
            self.stop(process, grace_s=5.0)

    def emulator(self, kind: str, *, latency_ms: float, jitter_ms: float) -> str:
        """Start `cordial-bridge emulate <kind>` in its own process; return its base URL."""
        port = free_port()
        command = [
            sys.executable, "-m", "processor", "emulate", kind,
            "--port", str(port), "--latency-ms", str(latency_ms), "--jitter-ms", str(jitter_ms),
        ]  # fmt: skip
        process = self.start(f"emulator-{kind}", command)
        wait_listening(port, process, f"the {kind} emulator")
        return f"http://127.0.0.1:{port}"

    def worker(self, direction: str, config: Path, *, profile: Path | None = None) -> subprocess.Popen[bytes]:
        """`cordial-bridge run --direction D --config F`; with `profile`, sampled by pyinstrument
        (`bench/profiled.py`) into a session file that `render_profile` turns into HTML and text."""
        command = [sys.executable, "-m", "processor"]
        if profile is not None:
            profile.parent.mkdir(parents=True, exist_ok=True)
            command = [sys.executable, str(ROOT / "bench" / "profiled.py"), str(profile)]
        command += ["run", "--direction", direction, "--config", str(config)]
        return self.start(f"worker-{direction}", command)


def render_profile(session: Path) -> list[Path]:
    """HTML (for a browser) and text (for a terminal) renderings of a pyinstrument session file."""
    out: list[Path] = []
    if not session.exists() or session.stat().st_size == 0:
        return out  # the worker died before pyinstrument could write its session
    for renderer, suffix in (("html", ".html"), ("text", ".txt")):
        target = session.with_suffix(suffix)
        command = [
            sys.executable,
            "-m",
            "pyinstrument",
            f"--load={session}",
            "-r",
            renderer,
            "-o",
            str(target),
        ]
        if renderer == "text":
            command += ["--unicode", "--no-color"]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, timeout=120, check=False)
        if done.returncode == 0 and target.exists() and target.stat().st_size:
            out.append(target)
        else:
            target.unlink(missing_ok=True)
    return out
