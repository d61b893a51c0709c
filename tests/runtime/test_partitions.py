"""Partition state through a fake consumer: pause/seek/resume, commits only forward, lag gauges."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from confluent_kafka import OFFSET_BEGINNING, KafkaException
from prometheus_client import CollectorRegistry

from processor.ops.metrics import BridgeMetrics
from processor.runtime.kafka import TP, Watermarks
from processor.runtime.partitions import PartitionState, apply_pauses, commit_offsets, export_lag

A, B, R = ("src", 0), ("src", 1), ("src.retry.1s", 0)


class FakeConsumer:
    """Records the calls the partition functions make, in order."""

    def __init__(self, marks: Mapping[TP, Watermarks] | None = None, fail_commit: bool = False) -> None:
        self.calls: list[tuple[str, object]] = []
        self.marks = dict(marks or {})
        self.fail_commit = fail_commit

    async def pause(self, tps: Sequence[TP]) -> None:
        self.calls.append(("pause", sorted(tps)))

    async def resume(self, tps: Sequence[TP]) -> None:
        if tps:
            self.calls.append(("resume", sorted(tps)))

    async def seek(self, positions: Mapping[TP, int]) -> None:
        self.calls.append(("seek", dict(positions)))

    async def commit(self, offsets: Mapping[TP, int]) -> None:
        if self.fail_commit:
            raise KafkaException("coordinator gone")
        self.calls.append(("commit", dict(offsets)))

    async def watermarks(self, tps: Sequence[TP]) -> dict[TP, Watermarks]:
        return {tp: self.marks[tp] for tp in tps if tp in self.marks}


def metrics() -> BridgeMetrics:
    return BridgeMetrics(CollectorRegistry())


async def test_pause_then_resume_seeks_back_to_the_first_undispatched_offset() -> None:
    """A paused partition resumes only after a seek to `position`; others are untouched."""
    parts = {A: PartitionState(position=17, reasons={"backpressure"}), B: PartitionState(position=3)}
    consumer, m = FakeConsumer(), metrics()
    await apply_pauses(consumer, parts, m, "inbound", unknown_position=OFFSET_BEGINNING)
    assert consumer.calls == [("pause", [A])]
    assert m.registry.get_sample_value("cordial_bridge_partitions_paused", {"direction": "inbound"}) == 1
    parts[A].reasons.clear()
    await apply_pauses(consumer, parts, m, "inbound", unknown_position=OFFSET_BEGINNING)
    assert consumer.calls[1:] == [("seek", {A: 17}), ("resume", [A])]
    assert not parts[A].kafka_paused
    assert not parts[A].needs_seek


async def test_dropped_records_without_a_pause_still_seek() -> None:
    """Records dropped while a hold was released before the pause was applied are re-read: seek only."""
    parts = {R: PartitionState(position=40, needs_seek=True, retry_tier="1s")}
    consumer = FakeConsumer()
    await apply_pauses(consumer, parts, metrics(), "inbound", unknown_position=OFFSET_BEGINNING)
    assert consumer.calls == [("seek", {R: 40})]


async def test_unknown_position_uses_the_reset_offset() -> None:
    """Nothing read and no group commit: resume from the reset policy's logical offset, not the fetch
    position (which may be past purged records)."""
    parts = {A: PartitionState(reasons={"auth"})}
    consumer = FakeConsumer()
    await apply_pauses(consumer, parts, metrics(), "inbound", unknown_position=OFFSET_BEGINNING)
    parts[A].reasons.clear()
    await apply_pauses(consumer, parts, metrics(), "inbound", unknown_position=OFFSET_BEGINNING)
    assert consumer.calls[1] == ("seek", {A: OFFSET_BEGINNING})


async def test_commit_only_moves_forward() -> None:
    """Commit points are committed once; an unfinished record holds its partition back."""
    a, b = PartitionState(), PartitionState()
    for offset in (0, 1, 2):
        a.tracker.add(offset)
    a.tracker.finish(0)
    a.tracker.finish(2)
    b.tracker.add(5)
    parts = {A: a, B: b}
    consumer, m = FakeConsumer(), metrics()
    assert await commit_offsets(consumer, parts, m, "inbound")
    assert consumer.calls == [("commit", {A: 1, B: 5})]
    assert not await commit_offsets(consumer, parts, m, "inbound")
    assert len(consumer.calls) == 1
    a.tracker.finish(1)
    await commit_offsets(consumer, parts, m, "inbound")
    assert consumer.calls[-1] == ("commit", {A: 3})


async def test_failed_commit_is_counted_and_retried_later() -> None:
    state = PartitionState()
    state.tracker.add(0)
    state.tracker.finish(0)
    m = metrics()
    assert not await commit_offsets(FakeConsumer(fail_commit=True), {A: state}, m, "inbound")
    assert (
        m.registry.get_sample_value(
            "cordial_bridge_commits_total", {"direction": "inbound", "result": "error"}
        )
        == 1
    )
    assert state.tracker.committable() == 1


async def test_lag_and_retry_depth() -> None:
    """Lag = high watermark - committed (or - low when the group never committed); depth sums tiers."""
    a, b, r = PartitionState(), PartitionState(), PartitionState(retry_tier="1s")
    a.tracker.mark_committed(90)
    r.tracker.mark_committed(4)
    marks = {A: Watermarks(0, 100), B: Watermarks(10, 25), R: Watermarks(0, 7)}
    m = metrics()
    await export_lag(FakeConsumer(marks), {A: a, B: b, R: r}, m, "inbound", ["1s", "5s"])

    def lag(tp: TP) -> float | None:
        labels = {"direction": "inbound", "topic": tp[0], "partition": str(tp[1])}
        return m.registry.get_sample_value("cordial_bridge_consumer_lag", labels)

    assert lag(A) == 10
    assert lag(B) == 15
    depth = m.registry.get_sample_value(
        "cordial_bridge_retry_topic_depth", {"direction": "inbound", "tier": "1s"}
    )
    assert depth == 3
    assert (
        m.registry.get_sample_value(
            "cordial_bridge_retry_topic_depth", {"direction": "inbound", "tier": "5s"}
        )
        == 0
    )
