"""Outcome routing, the DLQ policy (STYLE §3.5): what happens after one send ends.

* `Sent`, `Skipped` → `Done`;
* `Retry`           → `Produce` to the next retry tier, or to the DLQ once the attempts are spent;
* `Rejected`        → `Produce` to the DLQ;
* `AuthFailed`      → `AwaitAuth`: not done; the direction pauses and the send is repeated.

Pure: the worker passes the record's history (`Lineage`) and the wall clock in epoch ms. A
retry or DLQ record keeps the source bytes and key; the headers carry the bookkeeping (§6).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from processor.errors import ErrorClass
from processor.outcomes import AuthFailed, Outcome, Rejected, Retry, Sent, Skipped
from processor.records import SourceRecord
from processor.runtime import headers as h
from processor.runtime.retry import RetryPlan, dlq_topic, retry_topic
from processor.slots import slot_setter

KEPT_CB_HEADERS = frozenset({h.REPLAYED})
"""cb-* headers that survive into a new retry/DLQ record (the rest are rewritten)."""


@dataclass(frozen=True, slots=True, init=False)
class Lineage:
    """Where a record came from originally and how often delivery was tried before."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int | None
    attempts_before: int
    first_failure_at_ms: int | None
    action: str | None
    """`cb-action` of a retry record: only this action is sent again."""
    passthrough: tuple[tuple[str, bytes], ...]
    """Headers copied onto retry/DLQ records (the user's own, plus `cb-replayed`)."""

    def __init__(
        self,
        topic: str,
        partition: int,
        offset: int,
        timestamp_ms: int | None,
        attempts_before: int,
        first_failure_at_ms: int | None,
        action: str | None,
        passthrough: tuple[tuple[str, bytes], ...],
    ) -> None:  # hand-written: built once per record (processor/slots.py)
        _lineage_topic(self, topic)
        _lineage_partition(self, partition)
        _lineage_offset(self, offset)
        _lineage_timestamp_ms(self, timestamp_ms)
        _lineage_attempts_before(self, attempts_before)
        _lineage_first_failure_at_ms(self, first_failure_at_ms)
        _lineage_action(self, action)
        _lineage_passthrough(self, passthrough)

    @classmethod
    def of(cls, record: SourceRecord, source_topic: str | None = None) -> Lineage:
        """The lineage of `record`; a record read from `source_topic` starts afresh whatever its
        headers say (only retry-topic records continue an earlier attempt count)."""
        hdr = record.headers
        if not hdr:  # the common case: a record straight from the source topic
            return cls(record.topic, record.partition, record.offset, record.timestamp_ms, 0, None, None, ())
        passthrough = tuple(
            (name, value)
            for name, value in hdr.items()
            if not name.startswith("cb-") or name in KEPT_CB_HEADERS
        )
        original_topic = _text(hdr.get(h.ORIGINAL_TOPIC))
        if original_topic is None or h.ATTEMPT not in hdr or record.topic == source_topic:
            return cls(
                record.topic, record.partition, record.offset, record.timestamp_ms, 0, None, None, passthrough
            )
        return cls(
            topic=original_topic,
            partition=_int(hdr.get(h.ORIGINAL_PARTITION), record.partition),
            offset=_int(hdr.get(h.ORIGINAL_OFFSET), record.offset),
            timestamp_ms=_int(hdr.get(h.ORIGINAL_TIMESTAMP), record.timestamp_ms or 0) or record.timestamp_ms,
            attempts_before=max(_int(hdr.get(h.ATTEMPT), 0), 0),
            first_failure_at_ms=_int(hdr.get(h.FIRST_FAILURE_AT), 0) or None,
            action=_text(hdr.get(h.ACTION)) or None,
            passthrough=passthrough,
        )

    @property
    def attempt(self) -> int:
        """The number of this delivery attempt (1 for a record read from the source topic)."""
        return self.attempts_before + 1


_lineage_topic = slot_setter(Lineage, "topic")
_lineage_partition = slot_setter(Lineage, "partition")
_lineage_offset = slot_setter(Lineage, "offset")
_lineage_timestamp_ms = slot_setter(Lineage, "timestamp_ms")
_lineage_attempts_before = slot_setter(Lineage, "attempts_before")
_lineage_first_failure_at_ms = slot_setter(Lineage, "first_failure_at_ms")
_lineage_action = slot_setter(Lineage, "action")
_lineage_passthrough = slot_setter(Lineage, "passthrough")


@dataclass(frozen=True, slots=True)
class Done:
    outcome: Sent | Skipped


@dataclass(frozen=True, slots=True)
class Produce:
    """Write the record's bytes to `topic` with `headers`; done once the broker acknowledges it."""

    topic: str
    headers: list[tuple[str, bytes]]
    kind: str
    """`retry` or `dlq`."""
    tier: str | None
    error_class: str
    due_at_ms: int | None = None


@dataclass(frozen=True, slots=True)
class AwaitAuth:
    outcome: AuthFailed


Decision = Done | Produce | AwaitAuth


def route(
    outcome: Outcome,
    *,
    lineage: Lineage,
    source_topic: str,
    direction: str,
    action: str | None,
    plan: RetryPlan,
    now_ms: int,
    secrets: Iterable[str] = (),
) -> Decision:
    """Decide what happens to one record (or one action of it) after `outcome`."""
    if isinstance(outcome, Sent | Skipped):
        return Done(outcome)
    if isinstance(outcome, AuthFailed):
        return AwaitAuth(outcome)
    attempt = lineage.attempt
    first_failure = lineage.first_failure_at_ms or now_ms

    def headers(failure: h.FailureInfo, due: int | None) -> list[tuple[str, bytes]]:
        return list(lineage.passthrough) + h.failure_headers(
            original_topic=lineage.topic,
            original_partition=lineage.partition,
            original_offset=lineage.offset,
            original_timestamp_ms=lineage.timestamp_ms,
            attempt=attempt,
            first_failure_at_ms=first_failure,
            direction=direction,
            failure=failure,
            due_at_ms=due,
            secrets=secrets,
        )

    if isinstance(outcome, Rejected):
        failure = h.FailureInfo(str(outcome.error_class), outcome.message, outcome.status, action)
        return Produce(dlq_topic(source_topic), headers(failure, None), "dlq", None, str(outcome.error_class))
    assert isinstance(outcome, Retry)
    tier = plan.next_tier(attempt)
    if tier is None:
        message = f"{attempt} attempts failed; last: {outcome.error_class}: {outcome.message}"
        failure = h.FailureInfo(str(ErrorClass.RETRIES_EXHAUSTED), message, outcome.status, action)
        return Produce(
            dlq_topic(source_topic), headers(failure, None), "dlq", None, str(ErrorClass.RETRIES_EXHAUSTED)
        )
    delay_s = max(tier.delay_s, outcome.retry_after or 0.0)
    due = now_ms + round(delay_s * 1000)
    failure = h.FailureInfo(str(outcome.error_class), outcome.message, outcome.status, action)
    return Produce(
        retry_topic(source_topic, tier.name),
        headers(failure, due),
        "retry",
        tier.name,
        str(outcome.error_class),
        due,
    )


def _text(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    return raw.decode("utf-8", errors="replace")


def _int(raw: bytes | None, default: int) -> int:
    text = _text(raw)
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        return default


def header_dict(raw: Mapping[str, bytes]) -> dict[str, str]:
    """Header values as text (for logs and tests)."""
    return {k: v.decode("utf-8", errors="replace") for k, v in raw.items()}
