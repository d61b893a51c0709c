"""DLQ replay (SPEC §6): put dead-lettered records back on their original topic, resumably.

At-least-once and resumable: progress is the committed offset of the group
`<group_id>-dlq-replay` on the DLQ topic, and a batch's positions are committed only after the
delivery reports of every record produced in that batch arrived. An interrupted run resumes where
the last commit left it; a finished run leaves nothing for the next one unless it is asked to start
over (`from_beginning`). Progress covers every record scanned, matched or not: a later run with
different filters must start over to see records an earlier run passed by. Records keep their key
and value bytes, go back to their original partition when it still exists (so a key stays in its
lane), and carry `cb-replayed: <dlq partition>:<dlq offset>`.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

from processor.config.settings import KafkaSettings
from processor.ops.metrics import BridgeMetrics
from processor.runtime import headers as h
from processor.runtime.dlq_scan import (
    DlqError,
    DlqFilter,
    DlqRecord,
    committed_positions,
    partitions_of,
    scan,
    scan_consumer,
)
from processor.runtime.kafka import producer_config

REPLAY_GROUP_SUFFIX: Final = "-dlq-replay"


def replay_group(group_id: str) -> str:
    return f"{group_id}{REPLAY_GROUP_SUFFIX}"


# --------------------------------------------------------------------------- replay


@dataclass(frozen=True, slots=True)
class ReplayOptions:
    dry_run: bool = False
    limit: int | None = None
    rate_per_s: float | None = None
    include_replayed: bool = False
    """Also replay records that already carry `cb-replayed` (they failed again after a replay)."""
    from_beginning: bool = False
    """Ignore the saved progress and rescan the whole DLQ."""
    batch_size: int = 500
    """Records produced between two progress commits (whichever comes first with the interval)."""
    commit_interval_s: float = 5.0
    """Longest time between two progress commits while records are being produced (slow `--rate`)."""
    flush_timeout_s: float = 60.0


@dataclass
class ReplayResult:
    topic: str
    dry_run: bool
    scanned: int = 0
    matched: int = 0
    replayed: int = 0
    """Delivered to the original topic (dry run: would have been)."""
    skipped_replayed: int = 0
    unroutable: int = 0
    """Matching records that cannot be replayed: no `cb-original-topic`, or the value was not kept
    (`cb-value-omitted`: too large for the DLQ; the original is still at its source offset)."""
    by_topic: Counter[str] = field(default_factory=Counter)
    committed: dict[int, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "dry_run": self.dry_run,
            "scanned": self.scanned,
            "matched": self.matched,
            "replayed": self.replayed,
            "skipped_replayed": self.skipped_replayed,
            "unroutable": self.unroutable,
            "by_topic": dict(self.by_topic),
            "committed": {str(p): o for p, o in sorted(self.committed.items())},
        }


def replay_headers(rec: DlqRecord) -> list[tuple[str, bytes]]:
    """The user's own headers, minus our bookkeeping, plus `cb-replayed: <partition>:<offset>`."""
    kept = [(k, v) for k, v in rec.record.headers.items() if not k.startswith("cb-")]
    kept.append((h.REPLAYED, f"{rec.record.partition}:{rec.record.offset}".encode()))
    return kept


class _Deliveries:
    """Delivery reports of one batch (callbacks fire from `poll()`/`flush()` on this thread)."""

    def __init__(self, result: ReplayResult, metrics: BridgeMetrics | None, direction: str) -> None:
        self.result = result
        self.metrics = metrics
        self.direction = direction
        self.pending = 0
        self.errors: list[str] = []

    def on_delivery(self, err: KafkaError | None, msg: Any) -> None:
        self.pending -= 1
        if err is not None:
            self.errors.append(str(err))
            return
        self.result.replayed += 1
        self.result.by_topic[msg.topic()] += 1
        if self.metrics is not None:
            self.metrics.replayed.labels(direction=self.direction).inc()


class Replayer:
    """Replays one DLQ topic. The consumer must use the replay group; see the module docstring."""

    def __init__(
        self,
        *,
        consumer: Consumer,
        producer: Producer | None,
        topic: str,
        direction: str,
        metrics: BridgeMetrics | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.consumer = consumer
        self.producer = producer
        self.topic = topic
        self.direction = direction
        self.metrics = metrics
        self.clock = clock
        self.sleep = sleep
        self._partitions: dict[str, set[int]] = {}

    def close(self) -> None:
        """Flush anything still queued and close the clients."""
        if self.producer is not None:
            self.producer.flush(10)
        self.consumer.close()

    def estimate(self, options: ReplayOptions) -> int:
        """Roughly how many records a run will scan (for a progress bar only: some brokers'
        watermark answers are wrong, which is why scanning never relies on them)."""
        starts = self.starts(options)
        total = 0
        for partition in partitions_of(self.consumer, self.topic):
            try:
                low, high = self.consumer.get_watermark_offsets(
                    TopicPartition(self.topic, partition), timeout=5, cached=False
                )
            except KafkaException:
                continue
            total += max(high - max(starts.get(partition, low), low), 0)
        return total

    def starts(self, options: ReplayOptions) -> dict[int, int]:
        if options.from_beginning:
            return {}
        return committed_positions(self.consumer, self.topic, partitions_of(self.consumer, self.topic))

    def run(
        self,
        dlq_filter: DlqFilter,
        options: ReplayOptions,
        *,
        on_scanned: Callable[[DlqRecord], None] | None = None,
    ) -> ReplayResult:
        result = ReplayResult(self.topic, options.dry_run)
        if options.limit is not None and options.limit <= 0:
            return result
        if not options.dry_run and self.producer is None:
            raise DlqError("replay needs a producer unless it is a dry run")
        deliveries = _Deliveries(result, self.metrics, self.direction)
        positions: dict[int, int] = {}
        started = self.clock()
        with contextlib.closing(scan(self.consumer, self.topic, starts=self.starts(options))) as records:
            self._replay_all(records, dlq_filter, options, result, deliveries, positions, started, on_scanned)
            if not options.dry_run:
                self._settle(deliveries, positions, result, options)
        return result

    def _replay_all(
        self,
        records: Iterator[DlqRecord],
        dlq_filter: DlqFilter,
        options: ReplayOptions,
        result: ReplayResult,
        deliveries: _Deliveries,
        positions: dict[int, int],
        started: float,
        on_scanned: Callable[[DlqRecord], None] | None,
    ) -> None:
        in_batch = 0
        last_settle = self.clock()
        for rec in records:
            result.scanned += 1
            positions[rec.record.partition] = rec.record.next_offset
            if on_scanned is not None:
                on_scanned(rec)
            if not dlq_filter.matches(rec):
                continue
            if h.REPLAYED in rec.headers and not options.include_replayed:
                result.skipped_replayed += 1
                continue
            target = rec.original_topic
            if target is None or h.VALUE_OMITTED in rec.headers:
                result.unroutable += 1
                continue
            result.matched += 1
            if options.rate_per_s:
                self._throttle(started, result.matched - 1, options.rate_per_s)
            if options.dry_run:
                result.replayed += 1
                result.by_topic[target] += 1
            else:
                self._produce(rec, target, deliveries)
                in_batch += 1
                if in_batch >= options.batch_size or self.clock() - last_settle >= options.commit_interval_s:
                    self._settle(deliveries, positions, result, options)
                    in_batch = 0
                    last_settle = self.clock()
            if options.limit is not None and result.matched >= options.limit:
                return

    def _throttle(self, started: float, done: int, rate: float) -> None:
        due = started + done / rate
        wait = due - self.clock()
        if wait > 0:
            self.sleep(wait)

    def _target_partition(self, topic: str, wanted: int | None) -> int | None:
        """The original partition when the topic still has it (keeps the key in its lane)."""
        if wanted is None:
            return None
        if topic not in self._partitions:
            assert self.producer is not None
            info = self.producer.list_topics(topic, timeout=10).topics.get(topic)
            self._partitions[topic] = set() if info is None or info.error else set(info.partitions)
        return wanted if wanted in self._partitions[topic] else None

    def _produce(self, rec: DlqRecord, target: str, deliveries: _Deliveries) -> None:
        assert self.producer is not None
        kwargs: dict[str, Any] = {
            "key": rec.record.key,
            "value": rec.record.value,
            "headers": replay_headers(rec),
            "on_delivery": deliveries.on_delivery,
        }
        partition = self._target_partition(target, rec.original_partition)
        if partition is not None:
            kwargs["partition"] = partition
        while True:
            try:
                self.producer.produce(target, **kwargs)
                break
            except BufferError:
                self.producer.poll(0.5)  # local queue full: let deliveries drain
        deliveries.pending += 1
        self.producer.poll(0)

    def _settle(
        self,
        deliveries: _Deliveries,
        positions: Mapping[int, int],
        result: ReplayResult,
        options: ReplayOptions,
    ) -> None:
        """Wait for every delivery report, then commit how far the scan got."""
        assert self.producer is not None
        left = self.producer.flush(options.flush_timeout_s)
        if left or deliveries.pending:
            raise DlqError(f"{deliveries.pending} replayed records not acknowledged; progress not saved")
        if deliveries.errors:
            raise DlqError(f"replay produce failed: {deliveries.errors[0]}; progress not saved")
        fresh = {p: o for p, o in positions.items() if result.committed.get(p) != o}
        if not fresh:
            return
        offsets = [TopicPartition(self.topic, p, o) for p, o in sorted(fresh.items())]
        try:
            self.consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            raise DlqError(f"could not save replay progress on {self.topic}: {exc}") from exc
        result.committed.update(fresh)


def make_replayer(
    kafka: KafkaSettings,
    *,
    topic: str,
    direction: str,
    dry_run: bool,
    metrics: BridgeMetrics | None = None,
) -> Replayer:
    """A `Replayer` with its own consumer (replay group) and, unless a dry run, an idempotent producer."""
    consumer = scan_consumer(kafka, replay_group(kafka.group_id))
    producer = None if dry_run else Producer(producer_config(kafka))
    return Replayer(consumer=consumer, producer=producer, topic=topic, direction=direction, metrics=metrics)
