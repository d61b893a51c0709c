"""DLQ records (SPEC §6): decoded headers, filters, scanning, stats and the inspect view.

Scanning needs no consumer group: a plain consumer `assign()`s every partition from a start
offset and reads until librdkafka reports end-of-partition (`enable.partition.eof`), i.e. up to
the high watermark the broker gave in its fetch answers. Offset-for-time lookups and ListOffsets
are never used (Tansu answers both wrongly); time filters test each record's own timestamp.
`runtime/replay.py` builds the resumable replay on top of this.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections import Counter
from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

from processor.codecs import ValueCodec
from processor.config.settings import KafkaSettings
from processor.outcomes import Rejected
from processor.records import SourceRecord
from processor.runtime import headers as h
from processor.runtime.kafka import consumer_config, to_record

AGE_BUCKETS: Final = (("<1h", 3_600_000), ("<1d", 86_400_000), ("<7d", 7 * 86_400_000))
AGE_OLDER: Final = "older"
NO_VALUE: Final = "none"
_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_S: Final = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


class DlqError(Exception):
    """The DLQ could not be read or a replay could not be made durable."""


def now_ms() -> int:
    return int(time.time() * 1000)


def parse_time(text: str, *, now: int) -> int:
    """`2h`, `30m`, `7d` (that long before `now`) or an ISO-8601 time (naive = UTC) → epoch ms."""
    match = _RELATIVE.match(text)
    if match:
        return now - int(float(match.group(1)) * _UNIT_S[match.group(2)] * 1000)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"not a time: {text!r} (use ISO-8601 or a duration like 2h, 30m, 7d)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def format_ms(ms: int | None) -> str | None:
    if ms is None:
        return None
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)).isoformat(timespec="milliseconds")


# --------------------------------------------------------------------------- records and filters


@dataclass(frozen=True, slots=True)
class DlqRecord:
    """One DLQ record with its `cb-*` headers decoded."""

    record: SourceRecord
    headers: Mapping[str, str]

    @classmethod
    def of(cls, record: SourceRecord) -> DlqRecord:
        return cls(record, h.decode(list(record.headers.items())))

    @property
    def position(self) -> str:
        return self.record.position

    @property
    def key_text(self) -> str | None:
        key = self.record.key
        return None if key is None else key.decode("utf-8", errors="replace")

    @property
    def timestamp_ms(self) -> int | None:
        """When it was dead-lettered: the record's own timestamp, else `cb-first-failure-at`."""
        if self.record.timestamp_ms is not None:
            return self.record.timestamp_ms
        raw = self.headers.get(h.FIRST_FAILURE_AT, "")
        return int(raw) if raw.isdigit() else None

    def header(self, name: str) -> str:
        """A header's value, `none` when absent or empty (the label stats and filters use)."""
        return self.headers.get(name) or NO_VALUE

    @property
    def original_topic(self) -> str | None:
        return self.headers.get(h.ORIGINAL_TOPIC) or None

    @property
    def original_partition(self) -> int | None:
        raw = self.headers.get(h.ORIGINAL_PARTITION, "")
        return int(raw) if raw.isdigit() else None


def _status_matches(wanted: str, actual: str) -> bool:
    """`503` matches exactly; `5xx` matches the class; `none` matches records without a status."""
    if wanted.endswith("xx") and len(wanted) == 3:
        return actual[:1] == wanted[:1] and actual != NO_VALUE
    return wanted == actual


@dataclass(frozen=True, slots=True)
class DlqFilter:
    """Which DLQ records a verb looks at. Empty sets and None bounds match everything."""

    error_classes: frozenset[str] = frozenset()
    statuses: frozenset[str] = frozenset()
    actions: frozenset[str] = frozenset()
    keys: frozenset[str] = frozenset()
    since_ms: int | None = None
    until_ms: int | None = None

    def matches(self, rec: DlqRecord) -> bool:
        if self.error_classes and rec.header(h.ERROR_CLASS) not in self.error_classes:
            return False
        if self.actions and rec.header(h.ACTION) not in self.actions:
            return False
        if self.statuses and not any(_status_matches(s, rec.header(h.ERROR_STATUS)) for s in self.statuses):
            return False
        if self.keys and rec.key_text not in self.keys:
            return False
        if self.since_ms is not None or self.until_ms is not None:
            ts = rec.timestamp_ms
            if ts is None:
                return False
            if self.since_ms is not None and ts < self.since_ms:
                return False
            if self.until_ms is not None and ts >= self.until_ms:
                return False
        return True


# --------------------------------------------------------------------------- scanning


def scan_consumer(kafka: KafkaSettings, group_id: str) -> Consumer:
    """A consumer for scanning: assign-only, end-of-partition events on, never auto-commits."""
    config = consumer_config(kafka, group_id)
    config["enable.partition.eof"] = True
    return Consumer(config)


def partitions_of(consumer: Consumer, topic: str, timeout_s: float = 10.0) -> list[int]:
    """The topic's partitions; [] when the topic does not exist (an empty DLQ)."""
    try:
        metadata = consumer.list_topics(topic, timeout=timeout_s)
    except KafkaException as exc:
        raise DlqError(f"cannot read metadata of {topic}: {exc}") from exc
    info = metadata.topics.get(topic)
    if info is None or info.error is not None:
        return []
    return sorted(info.partitions)


def committed_positions(consumer: Consumer, topic: str, partitions: Iterable[int]) -> dict[int, int]:
    """The replay group's committed `next_offset` per partition (absent = never committed)."""
    tps = [TopicPartition(topic, p) for p in partitions]
    if not tps:
        return {}
    try:
        answers = consumer.committed(tps, timeout=10)
    except KafkaException as exc:
        raise DlqError(f"cannot read replay progress on {topic}: {exc}") from exc
    return {tp.partition: tp.offset for tp in answers if tp.offset >= 0}


def scan(
    consumer: Consumer,
    topic: str,
    *,
    starts: Mapping[int, int] | None = None,
    idle_timeout_s: float = 30.0,
) -> Generator[DlqRecord, None, None]:
    """Every record of `topic` from `starts` (default: the beginning) to the end of each partition."""
    partitions = partitions_of(consumer, topic)
    if not partitions:
        return
    starts = starts or {}
    consumer.assign([TopicPartition(topic, p, starts.get(p, OFFSET_BEGINNING)) for p in partitions])
    remaining = set(partitions)
    idle_since = time.monotonic()
    try:
        while remaining:
            message = consumer.poll(0.5)
            if message is None:
                if time.monotonic() - idle_since > idle_timeout_s:
                    raise DlqError(
                        f"no answer from the broker for {idle_timeout_s:.0f}s while reading {topic}"
                    )
                continue
            idle_since = time.monotonic()
            error = message.error()
            partition = message.partition()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    remaining.discard(partition)
                    continue
                if error.fatal() or not error.retriable():
                    raise DlqError(f"reading {topic}: {error.str()}")
                continue
            if partition not in remaining:
                continue  # written after we reached this partition's end: next run's business
            yield DlqRecord.of(to_record(message))
    finally:
        consumer.unassign()


# --------------------------------------------------------------------------- stats and inspect


@dataclass
class DlqStats:
    """Counts of one DLQ topic."""

    topic: str
    total: int = 0
    replay_pending: int = 0
    """Records at or after the replay group's committed position."""
    by_error_class: Counter[str] = field(default_factory=Counter)
    by_action: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)
    by_age: Counter[str] = field(default_factory=Counter)
    oldest_ms: int | None = None
    newest_ms: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "total": self.total,
            "replay_pending": self.replay_pending,
            "by_error_class": dict(self.by_error_class.most_common()),
            "by_action": dict(self.by_action.most_common()),
            "by_status": dict(self.by_status.most_common()),
            "by_age": {
                b: self.by_age[b] for b in (*(n for n, _ in AGE_BUCKETS), AGE_OLDER) if self.by_age[b]
            },
            "oldest": format_ms(self.oldest_ms),
            "newest": format_ms(self.newest_ms),
        }


def age_bucket(age_ms: int) -> str:
    for name, limit in AGE_BUCKETS:
        if age_ms < limit:
            return name
    return AGE_OLDER


def collect_stats(
    topic: str,
    records: Iterable[DlqRecord],
    *,
    now: int,
    dlq_filter: DlqFilter | None = None,
    committed: Mapping[int, int] | None = None,
) -> DlqStats:
    stats = DlqStats(topic)
    committed = committed or {}
    for rec in records:
        if dlq_filter is not None and not dlq_filter.matches(rec):
            continue
        stats.total += 1
        if rec.record.offset >= committed.get(rec.record.partition, 0):
            stats.replay_pending += 1
        stats.by_error_class[rec.header(h.ERROR_CLASS)] += 1
        stats.by_action[rec.header(h.ACTION)] += 1
        stats.by_status[rec.header(h.ERROR_STATUS)] += 1
        ts = rec.timestamp_ms
        stats.by_age[AGE_OLDER if ts is None else age_bucket(max(now - ts, 0))] += 1
        if ts is not None:
            stats.oldest_ms = ts if stats.oldest_ms is None else min(stats.oldest_ms, ts)
            stats.newest_ms = ts if stats.newest_ms is None else max(stats.newest_ms, ts)
    return stats


def decode_value(value: bytes | None, codec: ValueCodec | None = None) -> tuple[str, object]:
    """(`format`, shown value): Avro via the topic's codec, else JSON, else base64 of the bytes."""
    if value is None:
        return "null", None
    if codec is not None:
        decoded = codec.decode(value)
        if not isinstance(decoded, Rejected):
            return "avro", decoded
    try:
        return "json", json.loads(value.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "base64", base64.b64encode(value).decode("ascii")


def describe(rec: DlqRecord, codec: ValueCodec | None = None) -> dict[str, Any]:
    """A JSON-ready view of one DLQ record for `dlq inspect`."""
    value_format, value = decode_value(rec.record.value, codec)
    key = rec.record.key
    key_view: object = None
    if key is not None:
        try:
            key_view = key.decode("utf-8")
        except UnicodeDecodeError:
            key_view = {"base64": base64.b64encode(key).decode("ascii")}
    return {
        "dlq": rec.position,
        "timestamp": format_ms(rec.timestamp_ms),
        "key": key_view,
        "headers": dict(rec.headers),
        "value_format": value_format,
        "value": value,
    }
