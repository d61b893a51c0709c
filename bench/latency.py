"""End-to-end latency at a fixed rate: broker timestamp of a record → its request at the emulator.

Events carry a `bench_seq` (inbound: in `properties`, or `traits` for identify, so it reaches the
Cordial body; outbound: a top-level record field, which becomes a Segment property). A paced
producer (`bench/pacing.py`, warmed first) publishes them at the given rate for a bounded time to
a fresh topic that a running worker (already warmed up) consumes. Afterwards the records are read
back for their timestamps (CreateTime: stamped at `produce()`, so the producer's own ~4 ms are
in), and every request body that carries a `bench_seq` yields one sample:
`received_at - timestamp`. Both are `time.time()` readings on this machine, in milliseconds.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from bench.feed import Event


def tag_inbound(events: Iterable[Event], run: str, first_seq: int = 0) -> list[Event]:
    """The events with unique messageIds and a `bench_seq` from `first_seq` on."""
    out = []
    for seq, event in enumerate(events, start=first_seq):
        message = orjson.loads(event.value)
        message["messageId"] = f"{run}-{seq}"
        target = "traits" if message.get("type") == "identify" else "properties"
        holder = message.get(target)
        if isinstance(holder, dict):
            holder["bench_seq"] = seq
        else:
            message["bench_seq"] = seq  # not forwarded: no sample, still load
        out.append(Event(event.key, orjson.dumps(message)))
    return out


def tag_outbound(events: Iterable[Event], run: str, first_seq: int = 0) -> list[Event]:
    """The records with unique `_id`s and a `bench_seq` from `first_seq` on."""
    out = []
    for seq, event in enumerate(events, start=first_seq):
        record = orjson.loads(event.value)
        record["_id"] = f"{run}-{seq}"
        record["bench_seq"] = seq
        out.append(Event(event.key, orjson.dumps(record)))
    return out


def seq_of(value: bytes) -> str:
    message = orjson.loads(value)
    for holder in (message, message.get("properties"), message.get("traits")):
        if isinstance(holder, dict) and "bench_seq" in holder:
            return str(holder["bench_seq"])
    return "-"


def _seqs_in(body: Any) -> list[str]:
    """Every bench_seq in a received body (a Cordial call or a Segment batch)."""
    if not isinstance(body, dict):
        return []
    batch = body.get("batch")
    messages: list[Any] = batch if isinstance(batch, list) else [body]
    found = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        for name in ("properties", "attributes"):
            holder = message.get(name)
            if isinstance(holder, dict) and "bench_seq" in holder:
                found.append(str(holder["bench_seq"]))
                break
    return found


def percentile(samples: list[float], p: float) -> float | None:
    if len(samples) < 2:
        return samples[0] if samples else None
    return statistics.quantiles(samples, n=100, method="inclusive")[int(p) - 1]


@dataclass
class Latency:
    direction: str
    rate_per_s: float
    produced: int = 0
    produce_seconds: float = 0.0
    samples_ms: list[float] = field(default_factory=list)
    unmatched: int = 0
    floor_ms: list[float] = field(default_factory=list)
    """Broker → a bare consumer with the worker's librdkafka settings, taking each record at once:
    what any consumer with these settings sees before doing anything (`bench/pacing.py`)."""
    floor_worker_poll_ms: list[float] = field(default_factory=list)
    """The same records read with the worker's `consume(500, worker.poll_timeout_s)` calls."""

    def percentile(self, p: float) -> float | None:
        return percentile(self.samples_ms, p)

    def as_dict(self) -> dict[str, object]:
        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 1)

        return {
            "direction": self.direction,
            "target_rate_per_s": round(self.rate_per_s, 1),
            "produced": self.produced,
            "achieved_rate_per_s": round(self.produced / self.produce_seconds, 1)
            if self.produce_seconds
            else 0,
            "samples": len(self.samples_ms),
            "unmatched_requests": self.unmatched,
            "p50_ms": rounded(self.percentile(50)),
            "p95_ms": rounded(self.percentile(95)),
            "p99_ms": rounded(self.percentile(99)),
            "max_ms": rounded(max(self.samples_ms) if self.samples_ms else None),
            "floor_bare_consumer": {
                "samples": len(self.floor_ms),
                "p50_ms": rounded(percentile(self.floor_ms, 50)),
                "p95_ms": rounded(percentile(self.floor_ms, 95)),
                "p99_ms": rounded(percentile(self.floor_ms, 99)),
            },
            "floor_worker_poll": {
                "samples": len(self.floor_worker_poll_ms),
                "p50_ms": rounded(percentile(self.floor_worker_poll_ms, 50)),
                "p95_ms": rounded(percentile(self.floor_worker_poll_ms, 95)),
                "p99_ms": rounded(percentile(self.floor_worker_poll_ms, 99)),
            },
        }


def measure(result: Latency, received: Iterable[dict[str, Any]], timestamps: dict[str, float]) -> None:
    """Fill `result.samples_ms` from the emulator's log and the records' broker timestamps."""
    from bench.observe import epoch

    for entry in received:
        if entry.get("status") is None or int(entry["status"]) >= 300:
            continue
        arrived = epoch(entry["received_at"])
        for seq in _seqs_in(entry.get("body")):
            stamp = timestamps.get(seq)
            if stamp is None:
                result.unmatched += 1
            else:
                result.samples_ms.append((arrived - stamp) * 1000)
