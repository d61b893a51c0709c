"""DLQ replay without a broker: progress is saved only after delivery, metrics, rate, filters, times."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaError, TopicPartition
from prometheus_client import CollectorRegistry

from processor.codecs import make_codec
from processor.config.settings import SchemaRegistrySettings, TopicSettings
from processor.ops.metrics import BridgeMetrics
from processor.records import SourceRecord
from processor.runtime import headers as h
from processor.runtime.dlq_scan import (
    DlqError,
    DlqFilter,
    DlqRecord,
    age_bucket,
    collect_stats,
    decode_value,
    parse_time,
)
from processor.runtime.replay import Replayer, ReplayOptions, replay_group

DLQ = "segment-inbound.dlq"
NOW = 1_800_000_000_000


def _headers(overrides: dict[str, Any]) -> dict[str, bytes]:
    base: dict[str, Any] = {
        h.ORIGINAL_TOPIC: "segment-inbound",
        h.ORIGINAL_PARTITION: "1",
        h.ERROR_CLASS: "http_5xx",
        h.ERROR_STATUS: "503",
        h.ACTION: "upsertContact",
    }
    base.update(overrides)
    return {k: str(v).encode() for k, v in base.items() if v is not None}


def _record(
    offset: int,
    *,
    partition: int = 0,
    ts: int | None = NOW,
    key: bytes = b"k",
    hdr: dict[str, Any] | None = None,
) -> DlqRecord:
    return DlqRecord.of(SourceRecord(DLQ, partition, offset, key, b"{}", _headers(hdr or {}), ts))


class FakeMessage:
    def __init__(self, record: DlqRecord | None, eof_partition: int | None = None) -> None:
        self.rec = record
        self.eof_partition = eof_partition

    def error(self) -> Any:
        if self.eof_partition is None:
            return None
        return KafkaError(KafkaError._PARTITION_EOF)

    def partition(self) -> int:
        return self.rec.record.partition if self.rec else self.eof_partition  # type: ignore[return-value]

    def topic(self) -> str:
        return DLQ

    def offset(self) -> int:
        assert self.rec is not None
        return self.rec.record.offset

    def key(self) -> bytes | None:
        assert self.rec is not None
        return self.rec.record.key

    def value(self) -> bytes | None:
        assert self.rec is not None
        return self.rec.record.value

    def headers(self) -> list[tuple[str, bytes]]:
        assert self.rec is not None
        return list(self.rec.record.headers.items())

    def timestamp(self) -> tuple[int, int]:
        assert self.rec is not None
        return (1, self.rec.record.timestamp_ms or 0)


class FakeTopicMeta:
    def __init__(self, partitions: list[int]) -> None:
        self.partitions = {p: object() for p in partitions}
        self.error = None


class FakeMetadata:
    def __init__(self, topic: str, partitions: list[int]) -> None:
        self.topics = {topic: FakeTopicMeta(partitions)}


class FakeConsumer:
    """One partition holding `records`; remembers commits."""

    def __init__(self, records: list[DlqRecord]) -> None:
        self.records = records
        self.queue: list[FakeMessage] = []
        self.commits: list[list[TopicPartition]] = []
        self.committed_offset = -1001

    def list_topics(self, topic: str, timeout: float) -> FakeMetadata:
        return FakeMetadata(topic, [0])

    def committed(self, tps: list[TopicPartition], timeout: float) -> list[TopicPartition]:
        return [TopicPartition(tp.topic, tp.partition, self.committed_offset) for tp in tps]

    def assign(self, tps: list[TopicPartition]) -> None:
        start = max(tps[0].offset, 0)
        self.queue = [FakeMessage(r) for r in self.records if r.record.offset >= start]
        self.queue.append(FakeMessage(None, eof_partition=0))

    def poll(self, timeout: float) -> FakeMessage | None:
        return self.queue.pop(0) if self.queue else None

    def unassign(self) -> None:
        self.queue = []

    def commit(self, offsets: list[TopicPartition], asynchronous: bool) -> None:
        self.commits.append(offsets)
        self.committed_offset = offsets[0].offset

    def close(self) -> None:
        pass


class FakeProducer:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.produced: list[dict[str, Any]] = []
        self._callbacks: list[Any] = []

    def list_topics(self, topic: str, timeout: float) -> FakeMetadata:
        return FakeMetadata(topic, [0, 1, 2])

    def produce(self, topic: str, **kwargs: Any) -> None:
        self.produced.append({"topic": topic, **kwargs})
        self._callbacks.append((kwargs["on_delivery"], topic))

    def poll(self, timeout: float) -> int:
        return 0

    def flush(self, timeout: float) -> int:
        for callback, topic in self._callbacks:
            err = KafkaError(KafkaError._MSG_TIMED_OUT) if self.fail else None
            callback(err, FakeMessage(None, eof_partition=0) if err else _Delivered(topic))
        self._callbacks = []
        return 0


class _Delivered:
    def __init__(self, topic: str) -> None:
        self._topic = topic

    def topic(self) -> str:
        return self._topic


def _replayer(consumer: FakeConsumer, producer: FakeProducer | None, **kwargs: Any) -> Replayer:
    return Replayer(consumer=consumer, producer=producer, topic=DLQ, direction="inbound", **kwargs)  # type: ignore[arg-type]


class TestReplayer:
    def test_commits_after_deliveries_and_counts_metrics(self) -> None:
        consumer = FakeConsumer([_record(0), _record(1, key=b"k2")])
        producer = FakeProducer()
        metrics = BridgeMetrics(CollectorRegistry())
        result = _replayer(consumer, producer, metrics=metrics).run(DlqFilter(), ReplayOptions())
        assert result.replayed == 2
        assert [tp.offset for tp in consumer.commits[-1]] == [2]
        assert [p["partition"] for p in producer.produced] == [1, 1]
        assert producer.produced[1]["key"] == b"k2"
        assert dict(producer.produced[1]["headers"]) == {h.REPLAYED: b"0:1"}
        assert metrics.replayed.labels(direction="inbound")._value.get() == 2

    def test_failed_delivery_saves_no_progress(self) -> None:
        """A produce whose delivery report is an error must not move the replay group forward."""
        consumer = FakeConsumer([_record(0)])
        with pytest.raises(DlqError, match="progress not saved"):
            _replayer(consumer, FakeProducer(fail=True)).run(DlqFilter(), ReplayOptions())
        assert consumer.commits == []

    def test_batches_commit_as_they_settle(self) -> None:
        consumer = FakeConsumer([_record(i) for i in range(5)])
        _replayer(consumer, FakeProducer()).run(DlqFilter(), ReplayOptions(batch_size=2))
        assert [c[0].offset for c in consumer.commits] == [2, 4, 5]

    def test_slow_replays_commit_on_an_interval_too(self) -> None:
        """With a low --rate, progress is saved every commit_interval_s, not only every batch."""
        now = [0.0]

        def sleep(seconds: float) -> None:
            now[0] += seconds

        consumer = FakeConsumer([_record(i) for i in range(4)])
        replayer = _replayer(consumer, FakeProducer(), clock=lambda: now[0], sleep=sleep)
        replayer.run(DlqFilter(), ReplayOptions(rate_per_s=1, commit_interval_s=2, batch_size=100))
        assert [c[0].offset for c in consumer.commits] == [3, 4]

    def test_interrupted_replay_resumes_after_the_last_saved_batch(self) -> None:
        """An interrupt loses only unsaved progress: the next run starts at the last commit."""
        records = [_record(i, key=f"k{i}".encode()) for i in range(5)]
        consumer = FakeConsumer(records)

        class Interrupting(FakeProducer):
            def produce(self, topic: str, **kwargs: Any) -> None:
                if len(self.produced) == 3:
                    raise KeyboardInterrupt
                super().produce(topic, **kwargs)

        with pytest.raises(KeyboardInterrupt):
            _replayer(consumer, Interrupting()).run(DlqFilter(), ReplayOptions(batch_size=2))
        assert consumer.committed_offset == 2
        producer = FakeProducer()
        result = _replayer(consumer, producer).run(DlqFilter(), ReplayOptions(batch_size=2))
        assert [p["key"] for p in producer.produced] == [b"k2", b"k3", b"k4"]
        assert result.replayed == 3

    def test_value_omitted_records_are_not_replayed(self) -> None:
        consumer = FakeConsumer([_record(0, hdr={h.VALUE_OMITTED: "2000000"}), _record(1)])
        producer = FakeProducer()
        result = _replayer(consumer, producer).run(DlqFilter(), ReplayOptions())
        assert (result.unroutable, result.replayed, len(producer.produced)) == (1, 1, 1)

    def test_unknown_original_partition_is_left_to_the_partitioner(self) -> None:
        consumer = FakeConsumer([_record(0, hdr={h.ORIGINAL_PARTITION: "9"})])
        producer = FakeProducer()
        _replayer(consumer, producer).run(DlqFilter(), ReplayOptions())
        assert "partition" not in producer.produced[0]

    def test_record_without_original_topic_is_unroutable_but_passed(self) -> None:
        consumer = FakeConsumer([_record(0, hdr={h.ORIGINAL_TOPIC: None}), _record(1)])
        result = _replayer(consumer, FakeProducer()).run(DlqFilter(), ReplayOptions())
        assert (result.unroutable, result.replayed) == (1, 1)
        assert consumer.commits[-1][0].offset == 2

    def test_rate_limit_sleeps_between_records(self) -> None:
        now = [0.0]
        sleeps: list[float] = []

        def sleep(seconds: float) -> None:
            sleeps.append(seconds)
            now[0] += seconds

        consumer = FakeConsumer([_record(i) for i in range(4)])
        replayer = _replayer(consumer, FakeProducer(), clock=lambda: now[0], sleep=sleep)
        replayer.run(DlqFilter(), ReplayOptions(rate_per_s=2))
        assert sleeps == [0.5, 0.5, 0.5]

    def test_non_positive_limit_does_nothing(self) -> None:
        consumer = FakeConsumer([_record(0)])
        result = _replayer(consumer, FakeProducer()).run(DlqFilter(), ReplayOptions(limit=0))
        assert (result.scanned, consumer.commits) == (0, [])

    def test_replay_needs_a_producer(self) -> None:
        with pytest.raises(DlqError):
            _replayer(FakeConsumer([_record(0)]), None).run(DlqFilter(), ReplayOptions())

    def test_group_name(self) -> None:
        assert replay_group("cordial-bridge") == "cordial-bridge-dlq-replay"


class TestFilter:
    @pytest.mark.parametrize(
        ("flt", "expected"),
        [
            pytest.param(DlqFilter(error_classes=frozenset({"http_5xx"})), True, id="class"),
            pytest.param(DlqFilter(error_classes=frozenset({"validation"})), False, id="other-class"),
            pytest.param(DlqFilter(statuses=frozenset({"5xx"})), True, id="status-class"),
            pytest.param(DlqFilter(statuses=frozenset({"503"})), True, id="status-exact"),
            pytest.param(DlqFilter(statuses=frozenset({"4xx", "none"})), False, id="status-miss"),
            pytest.param(DlqFilter(actions=frozenset({"upsertContact"})), True, id="action"),
            pytest.param(DlqFilter(keys=frozenset({"other"})), False, id="key-miss"),
            pytest.param(DlqFilter(since_ms=NOW), True, id="since-inclusive"),
            pytest.param(DlqFilter(until_ms=NOW), False, id="until-exclusive"),
            pytest.param(DlqFilter(since_ms=NOW - 10, until_ms=NOW + 10), True, id="window"),
        ],
    )
    def test_matches(self, flt: DlqFilter, expected: bool) -> None:
        assert flt.matches(_record(0)) is expected

    def test_none_status_matches_records_without_status(self) -> None:
        rec = _record(0, hdr={h.ERROR_STATUS: None})
        assert DlqFilter(statuses=frozenset({"none"})).matches(rec)
        assert not DlqFilter(statuses=frozenset({"5xx"})).matches(rec)

    def test_time_filter_falls_back_to_first_failure_header(self) -> None:
        rec = _record(0, ts=None, hdr={h.FIRST_FAILURE_AT: str(NOW)})
        assert DlqFilter(since_ms=NOW - 1).matches(rec)
        assert not DlqFilter(since_ms=NOW - 1).matches(_record(0, ts=None))


class TestTimesAndViews:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2h", NOW - 7_200_000),
            ("30m", NOW - 1_800_000),
            ("1.5d", NOW - 129_600_000),
            ("2026-01-02T03:04:05Z", 1_767_323_045_000),
            ("2026-01-02T03:04:05", 1_767_323_045_000),
            ("2026-01-02T05:04:05+02:00", 1_767_323_045_000),
        ],
    )
    def test_parse_time(self, text: str, expected: int) -> None:
        assert parse_time(text, now=NOW) == expected

    @pytest.mark.parametrize("text", ["yesterday", "2x", "", "-2h"])
    def test_parse_time_rejects(self, text: str) -> None:
        with pytest.raises(ValueError):
            parse_time(text, now=NOW)

    def test_age_buckets(self) -> None:
        assert [age_bucket(ms) for ms in (0, 3_600_000, 86_400_000, 604_800_000)] == [
            "<1h",
            "<1d",
            "<7d",
            "older",
        ]

    def test_stats_respect_committed_progress(self) -> None:
        stats = collect_stats(DLQ, [_record(0), _record(1), _record(2)], now=NOW, committed={0: 2})
        assert (stats.total, stats.replay_pending) == (3, 1)

    def test_decode_value(self) -> None:
        assert decode_value(b'{"a": 1}') == ("json", {"a": 1})
        assert decode_value(b"\x00\x01") == ("base64", "AAE=")
        assert decode_value(None) == ("null", None)

    def test_decode_value_with_an_avro_topic_codec(self) -> None:
        """Avro (Confluent framing) decodes through the topic's codec; other bytes fall back."""
        schema = Path(__file__).resolve().parents[2] / "processor" / "schemas" / "segment_message.avsc"
        codec = make_codec(TopicSettings("segment-inbound", "avro", str(schema)), SchemaRegistrySettings())
        message = {"type": "identify", "userId": "u1", "traits": {"email": "a@b.com"}}
        assert decode_value(codec.encode(message), codec) == ("avro", message)
        assert decode_value(b"\xff\x00", codec) == ("base64", "/wA=")
