"""The assigned partitions of one direction: their state, and the consumer calls made for them.

`PartitionState` is loop-side bookkeeping (offset tracker, dispatch position, pause reasons).
The functions apply that state through the consumer: pause/resume (seeking back to the first
undispatched offset before a resume, because pausing drops the prefetched messages), commit
(only partitions still assigned, only forward), and the lag/retry-depth gauges. They await
consumer calls, so only the poll loop calls them — never code running inside a rebalance callback.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import structlog
from confluent_kafka import KafkaException

from processor.ops.metrics import BridgeMetrics
from processor.runtime.kafka import TP, Watermarks
from processor.runtime.offsets import OffsetTracker

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class PartitionState:
    tracker: OffsetTracker = field(default_factory=OffsetTracker)
    position: int | None = None
    """Next offset to dispatch (None until the first record)."""
    reasons: set[str] = field(default_factory=set)
    """Why the partition must be paused (`backpressure`, `due`, `auth`, `shutdown`); empty = flowing."""
    kafka_paused: bool = False
    needs_seek: bool = False
    """Records at or after `position` were dropped (or purged by a pause): seek before reading on."""
    retry_tier: str | None = None
    """The tier name for a retry-topic partition; None for the source topic."""


Partitions = MutableMapping[TP, PartitionState]


class ConsumerCalls(Protocol):
    """The consumer calls made here (`kafka.OwnedConsumer`; a fake in tests)."""

    async def pause(self, tps: Sequence[TP]) -> None: ...

    async def resume(self, tps: Sequence[TP]) -> None: ...

    async def seek(self, positions: Mapping[TP, int]) -> None: ...

    async def commit(self, offsets: Mapping[TP, int]) -> None: ...

    async def watermarks(self, tps: Sequence[TP]) -> dict[TP, Watermarks]: ...


async def apply_pauses(
    consumer: ConsumerCalls,
    parts: Partitions,
    metrics: BridgeMetrics,
    direction: str,
    *,
    unknown_position: int,
) -> None:
    """Make the consumer's paused set match the partitions' reasons.

    A partition that flows again is first moved back to `position` (pausing purged its prefetched
    records, and librdkafka would otherwise go on from its fetch position, skipping them). With no
    position yet (nothing read since assignment and no group commit), `unknown_position` — the
    logical offset of the reset policy — is used.
    """
    to_pause = [tp for tp, st in parts.items() if st.reasons and not st.kafka_paused]
    to_flow = [tp for tp, st in parts.items() if not st.reasons and (st.kafka_paused or st.needs_seek)]
    if to_pause:
        await consumer.pause(to_pause)
        for tp in to_pause:
            parts[tp].kafka_paused = True
            parts[tp].needs_seek = True
    if to_flow:
        positions = {tp: unknown_position if (p := parts[tp].position) is None else p for tp in to_flow}
        await consumer.seek(positions)
        to_resume = [tp for tp in to_flow if parts[tp].kafka_paused]
        await consumer.resume(to_resume)
        for tp in to_flow:
            parts[tp].kafka_paused = False
            parts[tp].needs_seek = False
    if to_pause or to_flow:
        metrics.partitions_paused.labels(direction).set(sum(st.kafka_paused for st in parts.values()))


async def commit_offsets(
    consumer: ConsumerCalls,
    parts: Partitions,
    metrics: BridgeMetrics,
    direction: str,
    *,
    forced: bool = False,
) -> bool:
    """Commit every commit point that moved forward. True when a commit succeeded."""
    offsets = {tp: p for tp, st in parts.items() if (p := st.tracker.committable()) is not None}
    if not offsets:
        return False
    try:
        await consumer.commit(offsets)
    except KafkaException as exc:
        metrics.commits.labels(direction, "error").inc()
        log.warning("commit_failed", direction=direction, error=str(exc), forced=forced)
        return False
    metrics.commits.labels(direction, "ok").inc()
    for tp, next_offset in offsets.items():
        if (st := parts.get(tp)) is not None:
            st.tracker.mark_committed(next_offset)
    return True


async def export_lag(
    consumer: ConsumerCalls, parts: Partitions, metrics: BridgeMetrics, direction: str, tiers: Iterable[str]
) -> None:
    """Consumer lag per source partition and retry-topic depth per tier: high watermark - committed."""
    tps = list(parts)
    if not tps:
        return
    try:
        marks = await consumer.watermarks(tps)
    except KafkaException:
        return
    depth: dict[str, int] = dict.fromkeys(tiers, 0)
    for tp, mark in marks.items():
        st = parts.get(tp)
        if st is None:
            continue
        base = st.tracker.committed
        if base is None:  # the group never committed here: everything retained is lag
            base = mark.low if mark.low >= 0 else 0
        lag = max(0, mark.high - base)
        if st.retry_tier is None:
            metrics.consumer_lag.labels(direction, tp[0], str(tp[1])).set(lag)
        else:
            depth[st.retry_tier] = depth.get(st.retry_tier, 0) + lag
    for tier, value in depth.items():
        metrics.retry_topic_depth.labels(direction, tier).set(value)
