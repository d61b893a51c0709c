"""Real worker processes for the chaos scenarios: start, `kill -9`, stop, and peak memory.

Each worker is `cordial-bridge run --direction D --config FILE` in its own session (so a signal
meant for one never reaches pytest), with stdout/stderr in a log file under the scenario's work
directory. A sampler thread reads every live worker's `VmHWM` (the kernel's peak resident set)
from `/proc/<pid>/status` four times a second; the last quarter second before a `kill -9` is the
only part of a worker's life it can miss.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE_INTERVAL_S = 0.25


def worker_command() -> tuple[str, ...]:
    """`cordial-bridge run` from the same environment as the tests."""
    exe = shutil.which("cordial-bridge", path=str(Path(sys.executable).parent)) or "cordial-bridge"
    return (exe, "run")


def vm_hwm_kib(pid: int) -> int | None:
    """The process's peak resident set size in KiB, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


@dataclass(eq=False)
class WorkerProcess:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    peak_kib: int = 0

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None


@dataclass(eq=False)
class WorkerPool:
    """The workers of one scenario (all running the same config and direction)."""

    config_path: Path
    workdir: Path
    env: Mapping[str, str]
    direction: str = "inbound"
    workers: list[WorkerProcess] = field(default_factory=list)
    kills: int = 0
    forced_stops: int = 0
    """Workers that did not finish a graceful shutdown (SIGTERM) in time and were killed."""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _sampler: threading.Thread | None = None

    def start(self) -> WorkerProcess:
        """Start one more worker process (returns at once; it joins the group on its own)."""
        name = f"worker-{len(self.workers) + 1}"
        log_path = self.workdir / f"{name}.log"
        command = [*worker_command(), "--direction", self.direction, "--config", str(self.config_path)]
        with log_path.open("wb") as log:
            popen = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **self.env, "PYTHONUNBUFFERED": "1"},
                start_new_session=True,
            )
        worker = WorkerProcess(name, popen, log_path)
        with self._lock:
            self.workers.append(worker)
        if self._sampler is None:
            self._sampler = threading.Thread(target=self._sample_forever, name="rss-sampler", daemon=True)
            self._sampler.start()
        return worker

    def alive(self) -> list[WorkerProcess]:
        return [w for w in self.workers if w.alive()]

    def kill(self, worker: WorkerProcess) -> None:
        """`kill -9`: no shutdown, no commit, no flush."""
        self._sample(worker)
        with contextlib.suppress(ProcessLookupError):
            worker.popen.send_signal(signal.SIGKILL)
        worker.popen.wait(timeout=10)
        self.kills += 1

    def terminate(self, worker: WorkerProcess, timeout_s: float = 20.0) -> int | None:
        """SIGTERM (graceful shutdown), SIGKILL after `timeout_s`; the exit code."""
        self._sample(worker)
        if worker.alive():
            with contextlib.suppress(ProcessLookupError):
                worker.popen.send_signal(signal.SIGTERM)
            try:
                worker.popen.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                worker.popen.kill()
                worker.popen.wait(timeout=10)
        return worker.popen.returncode

    def stop_all(self, timeout_s: float = 20.0) -> None:
        for worker in self.alive():
            with contextlib.suppress(ProcessLookupError):
                worker.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for worker in self.workers:
            try:
                worker.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.popen.kill()
                worker.popen.wait(timeout=10)
                self.forced_stops += 1
        self._stop.set()
        if self._sampler is not None:
            self._sampler.join(timeout=2)

    @property
    def peak_rss_mib(self) -> float:
        return max((w.peak_kib for w in self.workers), default=0) / 1024

    def log_tail(self, lines: int = 15) -> str:
        """The end of every worker's log (for a failing scenario's message)."""
        parts = []
        for worker in self.workers:
            try:
                text = worker.log_path.read_text(errors="replace").splitlines()[-lines:]
            except OSError:
                text = []
            parts.append(f"--- {worker.name} (exit {worker.popen.returncode}) ---\n" + "\n".join(text))
        return "\n".join(parts)

    def _sample(self, worker: WorkerProcess) -> None:
        value = vm_hwm_kib(worker.pid) if worker.alive() else None
        if value is not None and value > worker.peak_kib:
            worker.peak_kib = value

    def _sample_forever(self) -> None:
        while not self._stop.wait(SAMPLE_INTERVAL_S):
            with self._lock:
                workers: Sequence[WorkerProcess] = list(self.workers)
            for worker in workers:
                self._sample(worker)
