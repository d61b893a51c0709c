"""One record's way through a direction: decode → plan → send → route → durable (STYLE §3.1).

`RecordHandler.handle()` returns only when the record's outcome is durable: every unit was Sent
or Skipped, or its retry/DLQ record was acknowledged by the broker. It blocks (asynchronously)
while the direction is auth-paused and while the broker refuses a produce; cancellation (a
revoke or shutdown deadline) abandons the record, which then stays uncommitted. It logs ONE
line per record, with `event_id`, direction, topic, partition and offset: at `debug` for a
record sent as planned (a line per delivered event would cost more CPU than translating it, at
thousands of events/s), at `info` when skipped, blocked or retried, `warning` when dead-lettered.

The worker's fast path splits `handle()`: `prepare()` (decode, plan, count; no await) runs in
the poll loop, a single-unit plan goes to a batching sink's `submit()`, and only a record whose
send did not succeed gets a task (`complete(prepared, first=outcome)`); `sent()` books a success.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import structlog
from prometheus_client.metrics import MetricWrapperBase

from processor.errors import ErrorClass
from processor.ops.metrics import BridgeMetrics
from processor.ops.tally import Tally
from processor.outcomes import AuthFailed, Outcome, Rejected, Retry, Sent, Skipped
from processor.records import SourceRecord
from processor.runtime import headers as h
from processor.runtime.auth import AuthGate
from processor.runtime.directions import Direction, Plan, Unit
from processor.runtime.kafka import RecordRefusedError
from processor.runtime.retry import RetryPlan, dlq_topic
from processor.runtime.routing import AwaitAuth, Done, Lineage, Produce, route

log = structlog.get_logger(__name__)
M = TypeVar("M", bound=MetricWrapperBase)

BLOCKED_RECURSION = "blocked_recursion"
Publish = Callable[..., Awaitable[None]]
"""`publish(topic, key=, value=, headers=)`: resolves once the broker acknowledged the record."""

# Final outcome of a record, worst first (the record's label is the worst of its units).
_RANK = ("dead_lettered", "retried", "sent", "blocked", "skipped")


def _debug_enabled() -> bool:
    """Whether the configured structlog wrapper writes `debug` lines (filtering loggers say so)."""
    logger = structlog.get_logger(__name__).bind()
    is_enabled_for = getattr(logger, "is_enabled_for", None)
    return True if is_enabled_for is None else bool(is_enabled_for(logging.DEBUG))


class StormGuard:
    """Counts consecutive permanent failures; past `threshold` the direction is in a DLQ storm."""

    def __init__(self, threshold: int, on_change: Callable[[bool], None], direction: str = "-") -> None:
        self.threshold = max(threshold, 1)
        self._on_change = on_change
        self._direction = direction
        self.run = 0
        self.storm = False

    def permanent(self) -> None:
        self.run += 1
        if not self.storm and self.run >= self.threshold:
            self.storm = True
            log.error("dlq_storm", direction=self._direction, consecutive_dead_letters=self.run)
            self._on_change(True)

    def success(self) -> None:
        self.run = 0
        if self.storm:
            self.storm = False
            log.warning("dlq_storm_over", direction=self._direction)
            self._on_change(False)


@dataclass(slots=True)
class Prepared:
    """A decoded and planned record, ready to be sent."""

    record: SourceRecord
    lineage: Lineage
    plan: Plan

    def fields(self, direction: str) -> dict[str, object]:
        """The log context of this record (SPEC §8: an event id on every line)."""
        r = self.record
        return {
            "event_id": self.plan.event_id or r.position,
            "direction": direction,
            "topic": r.topic,
            "partition": r.partition,
            "offset": r.offset,
        }


@dataclass(frozen=True, slots=True)
class UnitResult:
    label: str
    outcome: str
    """`sent`, `skipped`, `retried` or `dead_lettered`."""
    error_class: str | None = None


class RecordHandler:
    """Handles records of one direction; shared by all its record tasks."""

    def __init__(
        self,
        direction: Direction,
        *,
        retry: RetryPlan,
        publish: Publish,
        gate: AuthGate,
        storm: StormGuard,
        metrics: BridgeMetrics,
        wall_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self.direction = direction
        self.retry = retry
        self.publish = publish
        self.gate = gate
        self.storm = storm
        self.metrics = metrics
        self.wall_ms = wall_ms
        self._children: dict[tuple[int, tuple[str, ...]], MetricWrapperBase] = {}
        self.tally = Tally()
        """Fast-path counts, flushed by the worker's poll loop (`flush_counts`)."""
        self._sent_outcome = metrics.records_outcome.labels(direction.name, "sent")
        self._latency = metrics.end_to_end_latency.labels(direction.name)
        self._debug = _debug_enabled()
        """Whether `debug` lines are written (decided once: the fast path skips building them)."""

    def _child(self, metric: M, *labels: str) -> M:
        """`metric.labels(*labels)`, cached: label lookups are a hot spot at thousands of records/s."""
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child  # type: ignore[return-value]

    async def handle(self, record: SourceRecord) -> None:
        """The whole way of one record, in a task of its own (the path every direction can take)."""
        await self.complete(self.prepare(record))

    def prepare(self, record: SourceRecord) -> Prepared:
        """Decode and plan (CPU only, no await): the worker's fast path calls it outside any task.
        A plan with nothing to send is counted and logged here, and is then finished."""
        d = self.direction.name
        lineage = Lineage.of(record, self.direction.source_topic)
        plan = self._plan(record, lineage)
        prepared = Prepared(record, lineage, plan)
        if plan.dropped_keys:
            self._child(self.metrics.flatten_collisions, d).inc(plan.dropped_keys)
        if plan.skipped is not None:
            self._count_skip(plan.skipped)
            final = "blocked" if plan.skipped == BLOCKED_RECURSION else "skipped"
            self._child(self.metrics.records_translated, d, "skipped").inc()
            self._child(self.metrics.records_outcome, d, final).inc()
            log.info("record_" + final, reason=plan.skipped, attempt=lineage.attempt, **prepared.fields(d))
            return prepared
        rejected_in_plan = any(u.decided is not None for u in plan.units)
        self._child(self.metrics.records_translated, d, "rejected" if rejected_in_plan else "ok").inc()
        return prepared

    @staticmethod
    def single_payload(prepared: Prepared) -> object | None:
        """The payload of a plan that is exactly one unit to send, else None (the task path)."""
        units = prepared.plan.units
        if len(units) == 1 and units[0].decided is None:
            return units[0].payload
        return None

    def sent(self, prepared: Prepared, outcome: Sent) -> None:
        """Bookkeeping of a single-unit record whose send succeeded on the fast path."""
        d = self.direction.name
        unit = prepared.plan.units[0]
        tally = self.tally
        tally.add(self._child(self.metrics.records_sent, d, unit.label))
        if self.storm.run:
            self.storm.success()
        tally.add(self._sent_outcome)
        lineage = prepared.lineage
        if lineage.timestamp_ms is not None:
            self._latency.observe(max(0.0, (self.wall_ms() - lineage.timestamp_ms) / 1000))
        if self._debug:
            log.debug("record_sent", attempt=lineage.attempt, status=outcome.status, **prepared.fields(d))

    def flush_counts(self) -> None:
        """Add the fast path's pending counts to the Prometheus counters."""
        self.tally.flush()

    async def complete(self, prepared: Prepared, first: Outcome | None = None) -> None:
        """Deliver the plan's units and make every outcome durable. `first`: the outcome of the
        first unit's send, when the fast path already made it (a failure to route from here)."""
        if prepared.plan.skipped is not None:
            return
        record, lineage = prepared.record, prepared.lineage
        structlog.contextvars.bind_contextvars(**prepared.fields(self.direction.name))
        results = []
        for index, unit in enumerate(prepared.plan.units):
            results.append(await self._deliver(unit, record, lineage, first if index == 0 else None))
        self._finish(results, record, lineage)

    def _plan(self, record: SourceRecord, lineage: Lineage) -> Plan:
        decoded = self.direction.codec.decode(record.value)
        if isinstance(decoded, Rejected):
            return Plan((Unit(lineage.action or "-", lineage.action, decided=decoded),))
        try:
            return self.direction.plan(decoded, lineage.action)
        except Exception as exc:  # a translator bug must not stop the partition
            log.exception(
                "translator_crashed",
                direction=self.direction.name,
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                event_id=record.position,
            )
            failure = Rejected(ErrorClass.INVALID_MESSAGE, f"translator error: {type(exc).__name__}: {exc}")
            return Plan((Unit(lineage.action or "-", lineage.action, decided=failure),))

    async def _send(self, payload: object) -> Outcome:
        """Send until the answer is not an auth failure, waiting on the gate in between."""
        while True:
            await self.gate.wait_open()
            try:
                outcome = await self.direction.sink.send(payload)
            except Exception as exc:  # a sink must not raise; if it does, retry via the tiers
                log.exception("sink_crashed")
                return Retry(ErrorClass.CONNECTION, f"sink error: {type(exc).__name__}: {exc}")
            if not isinstance(outcome, AuthFailed):
                return outcome
            self.gate.trip(outcome)
            log.debug("send_auth_failed", status=outcome.status)

    async def _deliver(
        self, unit: Unit, record: SourceRecord, lineage: Lineage, first: Outcome | None = None
    ) -> UnitResult:
        d = self.direction.name
        outcome: Outcome
        if unit.decided is not None:
            outcome = unit.decided
        elif first is not None and not isinstance(first, AuthFailed):
            outcome = first
        else:
            if isinstance(first, AuthFailed):
                self.gate.trip(first)
            outcome = await self._send(unit.payload)
        decision = route(
            outcome,
            lineage=lineage,
            source_topic=self.direction.source_topic,
            direction=d,
            action=unit.action,
            plan=self.retry,
            now_ms=self.wall_ms(),
            secrets=self.direction.secrets,
        )
        assert not isinstance(decision, AwaitAuth)  # _send never returns AuthFailed
        if isinstance(decision, Done):
            if isinstance(decision.outcome, Skipped):
                self._count_skip(decision.outcome.reason)
                return UnitResult(unit.label, "skipped")
            self._child(self.metrics.records_sent, d, unit.label).inc()
            self.storm.success()
            return UnitResult(unit.label, "sent")
        try:
            await self.publish(decision.topic, key=record.key, value=record.value, headers=decision.headers)
        except RecordRefusedError as exc:
            # The broker will never store these bytes (too large). Dead-letter the bookkeeping
            # without them; the original stays addressable by cb-original-topic/partition/offset.
            size = len(record.value or b"")
            log.error("record_value_refused", topic=decision.topic, size=size, error=str(exc))
            omitted = [*decision.headers, (h.VALUE_OMITTED, str(size).encode())]
            dlq = dlq_topic(self.direction.source_topic)
            await self.publish(dlq, key=record.key, value=None, headers=omitted)
            decision = Produce(dlq, omitted, "dlq", None, decision.error_class)
        return self._count_produced(decision, unit)

    def _count_produced(self, decision: Produce, unit: Unit) -> UnitResult:
        d = self.direction.name
        if decision.kind == "retry":
            tier = decision.tier or "-"
            self._child(self.metrics.records_retried, d, unit.label, decision.error_class, tier).inc()
            return UnitResult(unit.label, "retried", decision.error_class)
        self._child(self.metrics.records_dead_lettered, d, unit.label, decision.error_class).inc()
        self.storm.permanent()
        return UnitResult(unit.label, "dead_lettered", decision.error_class)

    def _count_skip(self, reason: str) -> None:
        if reason == BLOCKED_RECURSION:
            self._child(self.metrics.records_blocked, self.direction.name).inc()
        else:
            self._child(self.metrics.records_skipped, self.direction.name, reason).inc()

    def _finish(self, results: Sequence[UnitResult], record: SourceRecord, lineage: Lineage) -> None:
        d = self.direction.name
        final = min((r.outcome for r in results), key=_RANK.index, default="skipped")
        self._child(self.metrics.records_outcome, d, final).inc()
        if final == "sent":
            if lineage.timestamp_ms is not None:
                self._latency.observe(max(0.0, (self.wall_ms() - lineage.timestamp_ms) / 1000))
            if not self._debug:
                return
        fields: dict[str, object] = {"attempt": lineage.attempt}
        if len(results) > 1 or lineage.action:
            fields["actions"] = {r.label: r.outcome for r in results}
        errors = sorted({r.error_class for r in results if r.error_class})
        if errors:
            fields["error_class"] = ",".join(errors)
        level = log.warning if final == "dead_lettered" else log.debug if final == "sent" else log.info
        level("record_" + final, **fields)
