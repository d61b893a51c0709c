"""CPU accounting of a worker process from /proc, over an exact time window.

A `CpuMark` is one reading: the process's total CPU (every thread, including threads that have
exited: `/proc/<pid>/stat` sums the whole thread group), its main thread's CPU and the time that
thread spent runnable but waiting for a core (`/proc/<pid>/task/<pid>/schedstat`, nanoseconds;
the main thread has tid == pid and runs the asyncio event loop), and the whole machine's busy and
steal time (`/proc/stat`). `share()` interpolates the marks at the window's two ends, so the
figures cover exactly the interval in which events/s is measured, whatever the sampling cadence.

The main thread's CPU plus its run-queue wait is the share of the window the event loop wanted a
core: near 100 % the loop is the bottleneck; if the wait is a large part of it, the loop is
starved by the other processes on the machine rather than slow by itself.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

TICK_S = 1 / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class CpuMark:
    at: float
    """`time.time()` of the reading (the same clock as the emulator's `received_at`)."""
    process_s: float
    main_s: float | None
    main_wait_s: float | None
    machine_busy_s: float | None
    machine_steal_s: float | None


@dataclass(frozen=True, slots=True)
class CpuShare:
    """Percent of one core over a window (the machine's figures go up to 100 x cores)."""

    seconds: float
    process_pct: float
    main_pct: float | None
    main_wait_pct: float | None
    machine_busy_pct: float | None
    machine_steal_pct: float | None

    def as_dict(self) -> dict[str, float | None]:
        def r(value: float | None) -> float | None:
            return None if value is None else round(value, 1)

        return {
            "window_s": round(self.seconds, 3),
            "process_pct": r(self.process_pct),
            "main_thread_pct": r(self.main_pct),
            "main_thread_wait_pct": r(self.main_wait_pct),
            "machine_busy_pct": r(self.machine_busy_pct),
            "machine_steal_pct": r(self.machine_steal_pct),
            "machine_cores": os.cpu_count(),
        }


def _stat_fields(path: str) -> list[str]:
    """The fields of a /proc stat line after the `(comm)` field (which may contain spaces)."""
    return Path(path).read_text().rsplit(")", 1)[1].split()


def _ticks(fields: list[str]) -> float:
    return (int(fields[11]) + int(fields[12])) * TICK_S  # utime + stime, in clock ticks


def _main_thread(pid: int) -> tuple[float | None, float | None]:
    """(CPU seconds, run-queue wait seconds) of the main thread; wait is None without schedstat."""
    try:
        cpu_ns, wait_ns, _ = Path(f"/proc/{pid}/task/{pid}/schedstat").read_text().split()
        return int(cpu_ns) / 1e9, int(wait_ns) / 1e9
    except (OSError, ValueError):
        pass
    try:
        return _ticks(_stat_fields(f"/proc/{pid}/task/{pid}/stat")), None
    except OSError:
        return None, None


def _machine() -> tuple[float | None, float | None]:
    """(busy, steal) seconds summed over every core since boot, from /proc/stat's `cpu` line."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None, None
    if first[0] != "cpu" or len(first) < 9:
        return None, None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in first[1:9])
    return (user + nice + system + irq + softirq) * TICK_S, steal * TICK_S


def read_mark(pid: int) -> CpuMark | None:
    """One reading for a live process, or None when it has gone."""
    try:
        process_s = _ticks(_stat_fields(f"/proc/{pid}/stat"))
    except OSError:
        return None
    main_s, wait_s = _main_thread(pid)
    busy_s, steal_s = _machine()
    return CpuMark(time.time(), process_s, main_s, wait_s, busy_s, steal_s)


def _value_at(marks: Sequence[CpuMark], t: float, read: Callable[[CpuMark], float | None]) -> float | None:
    """`read(mark)` linearly interpolated at time `t` (clamped to the first/last mark)."""
    points = [(m.at, v) for m in marks if (v := read(m)) is not None]
    if not points:
        return None
    if t <= points[0][0]:
        return points[0][1]
    for (t0, v0), (t1, v1) in itertools.pairwise(points):
        if t0 <= t <= t1:
            return v0 if t1 == t0 else v0 + (v1 - v0) * (t - t0) / (t1 - t0)
    return points[-1][1]


def share(marks: Sequence[CpuMark], start: float, end: float) -> CpuShare | None:
    """CPU shares over [start, end]; None unless marks exist on both sides of the window.

    Marks must bracket the window (one at or before `start`, one at or after `end`), otherwise a
    clamped end would silently shrink the CPU time while the divisor stays the full window.
    """
    ordered = sorted(marks, key=lambda m: m.at)
    seconds = end - start
    if seconds <= 0 or not ordered or ordered[0].at > start or ordered[-1].at < end:
        return None

    def pct(read: Callable[[CpuMark], float | None]) -> float | None:
        a, b = _value_at(ordered, start, read), _value_at(ordered, end, read)
        return None if a is None or b is None else 100 * (b - a) / seconds

    process = pct(lambda m: m.process_s)
    if process is None:
        return None
    return CpuShare(
        seconds=seconds,
        process_pct=process,
        main_pct=pct(lambda m: m.main_s),
        main_wait_pct=pct(lambda m: m.main_wait_s),
        machine_busy_pct=pct(lambda m: m.machine_busy_s),
        machine_steal_pct=pct(lambda m: m.machine_steal_s),
    )
