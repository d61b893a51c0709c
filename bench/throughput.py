"""Processor throughput: one worker process drains a pre-filled backlog into an emulator.

Events/s are measured at the emulator, from the first event-carrying request received to the
last, so the worker's start-up (its credential check, then the group join) is not counted. While
the worker runs, its VmHWM (peak resident memory) and CPU time are sampled from /proc; the CPU
figures are interpolated at the two ends of that same window (`bench/cpu.py`).
What "done" means is predicted offline with the same translators the worker uses: inbound, the
number of Cordial requests; outbound, the number of Segment messages (checked once at the end
against the emulator's de-duplicated count).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from bench.cpu import CpuMark, CpuShare, read_mark, share
from bench.feed import Event
from bench.observe import Emulator
from bench.procs import Children, peak_rss_mb
from processor.config.settings import InboundSettings, OutboundSettings
from processor.inbound.requests import InboundTranslation
from processor.inbound.translate import InboundTranslator
from processor.outbound.messages import OutboundTranslation
from processor.outbound.translate import OutboundTranslator


def expected_deliveries(direction: str, events: Sequence[Event]) -> int:
    """Cordial requests (inbound) or Segment messages (outbound) the events should produce."""
    total = 0
    if direction == "inbound":
        inbound = InboundTranslator(InboundSettings())
        for event in events:
            result = inbound.translate(orjson.loads(event.value))
            if isinstance(result, InboundTranslation):
                total += len(result.requests)
    else:
        outbound = OutboundTranslator(OutboundSettings())
        for event in events:
            if isinstance(outbound.translate(orjson.loads(event.value)), OutboundTranslation):
                total += 1
    return total


@dataclass
class Drain:
    direction: str
    events: int
    expected: int
    delivered: int = 0
    requests: int = 0
    seconds: float = 0.0
    peak_rss_mb: float | None = None
    cpu: CpuShare | None = None
    """The worker's CPU (all threads, main thread, its run-queue wait) over the events/s window."""
    worker_exit: int | None = None
    complete: bool = False
    backpressure_pauses: int | None = None
    """`backpressure_pause` lines in the worker's log: how often it hit `worker.max_in_flight`."""
    notes: list[str] = field(default_factory=list)

    @property
    def events_per_s(self) -> float:
        """Events fully handled per second (a partial run is scaled by what was delivered)."""
        if not self.seconds or not self.expected:
            return 0.0
        done_events = self.events * min(1.0, self.delivered / self.expected)
        return done_events / self.seconds

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "direction": self.direction,
            "events": self.events,
            "expected_deliveries": self.expected,
            "delivered": self.delivered,
            "http_requests": self.requests,
            "seconds": round(self.seconds, 3),
            "events_per_s": round(self.events_per_s, 1),
            "http_requests_per_s": round(self.requests_per_s, 1),
            "complete": self.complete,
            "peak_rss_mb": None if self.peak_rss_mb is None else round(self.peak_rss_mb, 1),
            "worker_cpu_pct": None if self.cpu is None else round(self.cpu.process_pct),
            "worker_cpu": None if self.cpu is None else self.cpu.as_dict(),
            "worker_exit": self.worker_exit,
            "backpressure_pauses": self.backpressure_pauses,
            "notes": self.notes,
        }


def drain(
    children: Children,
    emulator: Emulator,
    *,
    direction: str,
    config: Path,
    events: int,
    expected: int,
    timeout_s: float,
    profile: Path | None = None,
) -> Drain:
    """Start a worker on the backlog, wait until it is delivered (or the time is up), stop it."""
    result = Drain(direction, events, expected)
    emulator.reset()
    log = children.log_dir / f"worker-{direction}.log"
    log_start = log.stat().st_size if log.exists() else 0  # logs are appended to
    worker = children.worker(direction, config, profile=profile)
    rss: list[float] = []
    cpu_marks: list[CpuMark] = []

    def sample() -> None:
        value = peak_rss_mb(worker.pid)
        if value is not None:
            rss.append(value)
        mark = read_mark(worker.pid)
        if mark is not None:
            cpu_marks.append(mark)

    inbound = direction == "inbound"
    window = emulator.watch(
        done=lambda count: inbound and count >= expected,
        deadline_s=timeout_s,
        idle_s=5.0 if inbound else 1.0,
        alive=lambda: worker.poll() is None,
        on_tick=sample,
        confirm=None if inbound else lambda: emulator.segment_accepted() >= expected,
    )
    sample()
    result.requests = window.requests
    result.seconds = window.seconds
    if direction == "inbound":
        result.delivered = window.requests
    else:
        result.delivered = emulator.segment_accepted() if window.requests else 0
    result.complete = result.delivered >= expected
    result.peak_rss_mb = max(rss) if rss else None
    if window.first is not None and window.last is not None:
        result.cpu = share(cpu_marks, window.first, window.last)
    if worker.poll() is not None:
        result.notes.append(f"worker exited early with {worker.returncode}; see its log")
    result.worker_exit = children.stop(worker, grace_s=30.0 if profile else 15.0)
    if log.exists():
        with log.open("rb") as lines:
            lines.seek(log_start)
            result.backpressure_pauses = sum(b'"backpressure_pause"' in line for line in lines)
    if not result.complete:
        result.notes.append(f"{result.delivered} of {expected} deliveries within {timeout_s:.0f} s")
    return result
