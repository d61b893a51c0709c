"""One direction's worker: the poll loop, rebalance callbacks, backpressure and graceful shutdown.

One consumer per direction subscribes to the source topic and its retry-tier topics; records of
retry topics pass the due-time gate first. The event loop owns all state; every consumer call
runs on the consumer's own thread (see `kafka.py`). Only the poll loop (`run`) issues consumer
calls, between `consume()`s; record tasks touch loop-side state only, so a rebalance callback
(which blocks the consumer thread while the loop drains) can never deadlock.

Partition pause reasons: `backpressure` (in-flight at the cap), `due` (a retry record not yet
due) and `auth` (the direction's key was refused). A partition is paused while it has any
reason; on resume it seeks back to the first offset not yet dispatched (pausing drops the
prefetched messages). `run()` returns after a graceful shutdown: stop fetching, finish in-flight
work within `shutdown_deadline_s` (or abandon it uncommitted), commit, flush, close.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

import structlog
from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, KafkaError, KafkaException, Message, TopicPartition

from processor.config.settings import Settings
from processor.errors import WorkerError
from processor.ops.metrics import BridgeMetrics
from processor.ops.readiness import Readiness
from processor.ops.tally import Tally
from processor.outcomes import AuthFailed, Outcome, Sent
from processor.records import SourceRecord
from processor.runtime.auth import AuthGate
from processor.runtime.commit import CommitPolicy, CommitState
from processor.runtime.delivery import Prepared, RecordHandler, StormGuard
from processor.runtime.directions import BatchingSink, Direction
from processor.runtime.kafka import (
    TP,
    AsyncProducer,
    OwnedConsumer,
    consumer_config,
    producer_config,
    to_record,
)
from processor.runtime.lanes import Backpressure, KeyLanes
from processor.runtime.partitions import (
    PartitionState,
    apply_pauses,
    commit_offsets,
    export_lag,
)
from processor.runtime.retry import DueGate, RetryPlan, due_at_ms
from processor.runtime.topics import create_topics

log = structlog.get_logger(__name__)

BACKPRESSURE, DUE, AUTH = "backpressure", "due", "auth"
LAG_INTERVAL_S = 5.0
MAX_BATCH = 500
HOLD_MAX_S = 5.0
"""How long the poll loop may stop fetching at the in-flight cap before it pauses the partitions."""


@dataclass(slots=True, eq=False)
class Inflight:
    record: SourceRecord
    key: Hashable
    tp: TP
    task: asyncio.Task[bool] | None = None
    """The record's task (the general path, or the fast path's failure handling)."""
    submitted: bool = False
    """Waiting in a batching sink (the fast path): no task to cancel, only a report to come."""
    batch: int = -1
    """The sink batch it joined (fast path)."""
    ended: bool = False
    """Finished, crashed or abandoned: any later report about it is ignored."""


class Worker:
    """Drives one `Direction` on a consumer group until stopped."""

    def __init__(
        self,
        direction: Direction,
        settings: Settings,
        *,
        metrics: BridgeMetrics,
        readiness: Readiness,
        clock: Callable[[], float] = time.monotonic,
        lag_interval_s: float = LAG_INTERVAL_S,
        hold_max_s: float = HOLD_MAX_S,
    ) -> None:
        self.direction = direction
        self.settings = settings
        self.metrics = metrics
        self.readiness = readiness
        self.clock = clock
        self.name = direction.name
        self.retry = RetryPlan.from_settings(settings.retry)
        self.retry_topics = {t: tier.name for t, tier in zip(
            self.retry.topics(direction.source_topic), self.retry.tiers, strict=True
        )}  # fmt: skip
        w = settings.worker
        self.parts: dict[TP, PartitionState] = {}
        self.lanes: KeyLanes[Inflight] = KeyLanes(self._start, self._joinable)
        self.backpressure = Backpressure(w.max_in_flight, w.resume_below)
        self.due = DueGate()
        self.commit_state = CommitState(CommitPolicy.from_settings(w), clock())
        self.gate = AuthGate(
            direction.sink.check_auth,
            initial_s=w.auth_probe_initial_s,
            max_s=w.auth_probe_max_s,
            on_change=self._on_auth_change,
            direction=self.name,
        )
        storm = StormGuard(w.dlq_storm_threshold, lambda s: readiness.set_dlq_storm(self.name, s), self.name)
        self._storm = storm
        self._loop: asyncio.AbstractEventLoop | None = None
        self._consumer: OwnedConsumer | None = None
        self._producer: AsyncProducer | None = None
        self._handler: RecordHandler | None = None
        self._next_lag = 0.0
        self._reset_offset = OFFSET_BEGINNING
        self._lag_interval_s = lag_interval_s
        self._hold_max_s = hold_max_s
        self._held_since: float | None = None
        """Set while the loop holds off fetching at the cap (partitions not paused in Kafka)."""
        self._room = asyncio.Event()
        self._progress = asyncio.Event()
        """Set whenever a record ends (drain and shutdown wait on it)."""
        sink = direction.sink
        self._batching = sink if isinstance(sink, BatchingSink) else None
        """The sink when it takes submissions (the fast path), else None."""
        self._consumed_source = metrics.records_consumed.labels(self.name, "source")
        self._consumed_retry = metrics.records_consumed.labels(self.name, "retry")
        self._tally = Tally()
        readiness.register(self.name)

    # ------------------------------------------------------------------ lifecycle

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set; then shut down gracefully. Raises WorkerError on a fatal error."""
        self._loop = asyncio.get_running_loop()
        kafka = self.settings.kafka
        topics = [self.direction.source_topic, *self.retry_topics]
        await self._ensure_topics()
        self._producer = AsyncProducer(producer_config(kafka), self._loop)
        self._handler = RecordHandler(
            self.direction,
            retry=self.retry,
            publish=self._producer.publish,
            gate=self.gate,
            storm=self._storm,
            metrics=self.metrics,
        )
        group = f"{kafka.group_id}-{self.name}"
        config = consumer_config(kafka, group)
        earliest = str(config.get("auto.offset.reset")) in ("earliest", "smallest", "beginning")
        self._reset_offset = OFFSET_BEGINNING if earliest else OFFSET_END
        self._consumer = OwnedConsumer(config)
        log.info("worker_starting", direction=self.name, group=group, topics=topics)
        auth_check = self._loop.create_task(self._check_auth_at_start())
        try:
            await self._consumer.subscribe(topics, self._on_assign, self._on_revoke, self._on_lost)
            self.readiness.set_broker_reachable(True)
            while not stop.is_set():
                await self._housekeeping()
                if self._held_since is not None:
                    await self._wait_for_room()
                    continue
                messages = await self._consumer.consume_ready(
                    self._batch_size(), self.settings.worker.poll_timeout_s
                )
                for message in messages:
                    self._dispatch(message)
                if messages and messages[-1].error() is None:
                    self.readiness.set_broker_reachable(True)
        finally:
            auth_check.cancel()
            await self._shutdown()

    async def _check_auth_at_start(self) -> None:
        """A refused key pauses the direction before its first record (not-ready at once)."""
        try:
            outcome = await self.direction.sink.check_auth()
        except Exception as exc:  # the probe is advisory; records will tell
            log.warning("auth_check_error", direction=self.name, error=repr(exc))
            return
        if isinstance(outcome, AuthFailed):
            self.gate.trip(outcome)

    async def _ensure_topics(self) -> None:
        """Create missing source/retry/DLQ topics (best effort: the broker may forbid it)."""
        from processor.runtime.topics import direction_topics

        names = direction_topics(self.settings, self.name)
        try:
            await asyncio.to_thread(create_topics, self.settings.kafka, names, timeout_s=15.0)
        except KafkaException as exc:
            log.warning("topics_not_created", direction=self.name, error=str(exc))

    async def _wait_for_room(self) -> None:
        """At the cap: fetch nothing until in-flight falls below the resume mark (or a poll interval
        passes, for housekeeping). librdkafka keeps prefetching meanwhile, so resuming is instant."""
        self._room.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._room.wait(), self.settings.worker.poll_timeout_s)

    def _batch_size(self) -> int:
        room = self.backpressure.cap - self.lanes.in_flight
        return max(1, min(MAX_BATCH, room))

    async def _shutdown(self) -> None:
        consumer, producer = self._consumer, self._producer
        deadline = self.clock() + self.settings.worker.shutdown_deadline_s
        log.info("worker_stopping", direction=self.name, in_flight=self.lanes.in_flight)
        try:
            if consumer is not None:
                for st in self.parts.values():
                    st.reasons.add("shutdown")
                await self._apply_pauses()
                # Keep polling (paused) while in-flight work finishes, so the group keeps us.
                # Records waiting for a refused key cannot finish: do not wait for them.
                while self.lanes.running() and self.clock() < deadline and self.gate.is_open:
                    await self._wait_progress(0.1)
                    with contextlib.suppress(KafkaException):
                        for message in await consumer.consume(MAX_BATCH, 0.0):
                            self._dispatch(message)
                abandoned = await self._abandon(list(self.parts))
                if abandoned:
                    log.warning("inflight_abandoned", direction=self.name, records=abandoned)
                await self._commit(force=True)
                await consumer.close()
        finally:
            self._flush_counts()
            await self.gate.aclose()
            if producer is not None:
                left = await asyncio.to_thread(producer.close, max(1.0, deadline - self.clock()))
                if left:
                    log.error("producer_not_flushed", direction=self.name, records=left)
            await self.direction.sink.aclose()
            self.readiness.set_assigned(self.name, 0)
            log.info("worker_stopped", direction=self.name)

    # ------------------------------------------------------------------ dispatch

    def _dispatch(self, message: Message) -> None:
        error = message.error()
        if error is not None:
            self._on_error(error)
            return
        topic, partition, offset = message.topic(), message.partition(), message.offset()
        if topic is None or partition is None or offset is None:
            return
        tp = (topic, partition)
        st = self.parts.get(tp)
        if st is None or (st.position is not None and offset < st.position):
            return  # not ours (any more), or re-delivered after a seek
        if st.reasons or st.needs_seek:
            if st.position is None:
                st.position = offset
            st.needs_seek = True
            return  # paused, or dropped records before this one: re-read from `position`
        record = to_record(message)
        if st.retry_tier is not None:
            due = due_at_ms(record.headers)
            wait_s = 0.0 if due is None else (due - time.time() * 1000) / 1000
            if wait_s > 0:
                self.due.hold(tp, offset, self.clock() + wait_s)
                st.reasons.add(DUE)
                st.position = offset
                st.needs_seek = True
                return
        st.tracker.add(offset)
        st.position = offset + 1
        self._tally.add(self._consumed_source if st.retry_tier is None else self._consumed_retry)
        key: Hashable = record.key if record.key is not None else record.position
        self.lanes.submit(key, Inflight(record, key, tp))
        if self.backpressure.update(self.lanes.in_flight):
            # Stop fetching but keep librdkafka's prefetch: a Kafka pause would discard it and a
            # resume would wait for a fresh fetch. Only a long hold pauses (see _housekeeping).
            self._held_since = self.clock()
            log.debug("backpressure_hold", direction=self.name, in_flight=self.lanes.in_flight)

    def _on_error(self, error: KafkaError) -> None:
        if error.code() == KafkaError._PARTITION_EOF:
            return
        if error.fatal():
            raise WorkerError(f"fatal Kafka error: {error.str()}")
        transport = error.code() in (KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN)
        if error.code() == KafkaError._ALL_BROKERS_DOWN:
            self.readiness.set_broker_reachable(False)
        (log.warning if transport else log.info)("kafka_error", direction=self.name, error=error.str())

    def _start(self, item: Inflight) -> None:
        """Start a record whose key is idle: the fast path when the sink batches, else a task."""
        assert self._handler is not None
        if self._batching is not None and self.gate.is_open:
            self._start_fast(item, self._batching)
        else:
            self._spawn(item, self._handler.handle, item.record)

    def _start_fast(self, item: Inflight, sink: BatchingSink) -> None:
        """Plan the record here, in the poll loop, and hand a single-unit plan to the sink with a
        callback: no task, coroutine or future per record. Anything else takes a task."""
        assert self._handler is not None
        assert self._loop is not None
        handler = self._handler
        try:
            prepared = handler.prepare(item.record)
        except Exception:  # a bug in the bookkeeping: like a crashed record task
            log.exception("record_task_crashed", direction=self.name, offset=item.record.offset)
            self._loop.call_soon(self._end, item, False)
            return
        if prepared.plan.skipped is not None:
            self._loop.call_soon(self._end, item, True)  # not from inside the lanes' own call
            return
        payload = handler.single_payload(prepared)
        if payload is None:
            self._spawn(item, handler.complete, prepared)
            return
        refused = sink.submit(payload, lambda result: self._submitted(item, prepared, result))
        if refused is None:
            item.submitted = True
            item.batch = sink.last_batch
        else:
            self._spawn(item, handler.complete, prepared, refused)

    def _joinable(self, item: Inflight) -> bool:
        """Whether a running record still sits in the sink's unsent batch (its key's next may join)."""
        sink = self._batching
        return item.submitted and sink is not None and item.batch == sink.open_batch

    def _submitted(self, item: Inflight, prepared: Prepared, result: Outcome | BaseException) -> None:
        """The sink's report on a fast-path record: success ends it; a failure is routed in a task."""
        if item.ended:
            return  # abandoned meanwhile (revoke, shutdown deadline): stays uncommitted
        item.submitted = False
        assert self._handler is not None
        if isinstance(result, Sent):
            self._handler.sent(prepared, result)
            self._end(item, True)
        elif isinstance(result, BaseException):
            if not isinstance(result, asyncio.CancelledError):
                log.error(
                    "record_task_crashed", direction=self.name, offset=item.record.offset, error=repr(result)
                )
            self._end(item, False)
        else:
            self._spawn(item, self._handler.complete, prepared, result)

    def _spawn(self, item: Inflight, work: Callable[..., Awaitable[None]], *args: Any) -> None:
        assert self._loop is not None
        item.task = self._loop.create_task(self._process(item, work, *args))
        item.task.add_done_callback(lambda task: self._finished(item, task))

    async def _process(self, item: Inflight, work: Callable[..., Awaitable[None]], *args: Any) -> bool:
        """True once the record's outcome is durable."""
        try:
            await work(*args)
        except Exception:
            log.exception("record_task_crashed", direction=self.name, offset=item.record.offset)
            return False  # left unfinished: nothing commits past it
        return True

    def _finished(self, item: Inflight, task: asyncio.Task[bool]) -> None:
        """Done callback: a cancelled (abandoned) or crashed record stays uncommitted."""
        self._end(item, not task.cancelled() and task.result())

    def _end(self, item: Inflight, durable: bool) -> None:
        """A record ends: committable when `durable`; its key's next record starts."""
        if item.ended:
            return
        item.ended = True
        if durable:
            st = self.parts.get(item.tp)
            if st is not None:
                st.tracker.finish(item.record.offset)
            self.commit_state.record_completion()
        self.lanes.finish(item.key, item)
        self._progress.set()
        if self._held_since is not None and self.lanes.in_flight < self.backpressure.resume_at:
            self._room.set()

    async def _wait_progress(self, timeout_s: float) -> None:
        """Until some record ends, or `timeout_s`."""
        self._progress.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._progress.wait(), timeout_s)

    # ------------------------------------------------------------------ housekeeping

    async def _housekeeping(self) -> None:
        now = self.clock()
        for tp, offset in self.due.release_due(now):
            st = self.parts.get(tp)
            if st is not None:
                st.reasons.discard(DUE)
                st.position = offset
        if self.backpressure.update(self.lanes.in_flight) is False:
            if self._held_since is None:  # paused in Kafka
                log.info("backpressure_resume", direction=self.name, in_flight=self.lanes.in_flight)
            self._held_since = None
            for st in self.parts.values():
                st.reasons.discard(BACKPRESSURE)
        elif self._held_since is not None and now - self._held_since >= self._hold_max_s:
            # Held too long: pause in Kafka so the loop polls again (rebalances, liveness).
            log.info("backpressure_pause", direction=self.name, in_flight=self.lanes.in_flight)
            self._held_since = None
            for part in self.parts.values():
                part.reasons.add(BACKPRESSURE)
        await self._apply_pauses()
        self._flush_counts()
        self.metrics.records_in_flight.labels(self.name).set(self.lanes.in_flight)
        if self.commit_state.should_commit(now):
            await self._commit()
        if now >= self._next_lag:
            self._next_lag = now + self._lag_interval_s
            await self._export_lag()

    def _flush_counts(self) -> None:
        self._tally.flush()
        if self._handler is not None:
            self._handler.flush_counts()

    async def _apply_pauses(self) -> None:
        assert self._consumer is not None
        await apply_pauses(
            self._consumer, self.parts, self.metrics, self.name, unknown_position=self._reset_offset
        )

    async def _commit(self, *, force: bool = False) -> None:
        assert self._consumer is not None
        self.commit_state.did_commit(self.clock())
        if await commit_offsets(self._consumer, self.parts, self.metrics, self.name, forced=force):
            self.readiness.set_broker_reachable(True)

    async def _export_lag(self) -> None:
        assert self._consumer is not None
        await export_lag(self._consumer, self.parts, self.metrics, self.name, self.retry_topics.values())

    # ------------------------------------------------------------------ auth

    def _on_auth_change(self, paused: bool) -> None:
        self.readiness.set_auth_paused(self.name, paused)
        self.metrics.auth_paused.labels(self.name).set(1 if paused else 0)
        for st in self.parts.values():
            (st.reasons.add if paused else st.reasons.discard)(AUTH)

    # ------------------------------------------------------------------ rebalance (consumer thread)

    def _on_assign(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        assert self._loop is not None
        tps = [(tp.topic, tp.partition) for tp in partitions]
        try:  # the group's commit points: lag is measured from them until we commit ourselves
            answer = consumer.committed(partitions, timeout=5.0) if partitions else []
            committed = {(tp.topic, tp.partition): tp.offset for tp in answer if tp.offset >= 0}
        except KafkaException as exc:
            log.warning("committed_offsets_unknown", direction=self.name, error=str(exc))
            committed = {}
        asyncio.run_coroutine_threadsafe(self._assigned(tps, committed), self._loop).result()

    def _on_revoke(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        self._revoked(consumer, partitions, lost=False)

    def _on_lost(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        self._revoked(consumer, partitions, lost=True)

    def _revoked(self, consumer: Any, partitions: list[TopicPartition], *, lost: bool) -> None:
        assert self._loop is not None
        tps = [(tp.topic, tp.partition) for tp in partitions]
        offsets = asyncio.run_coroutine_threadsafe(self._drain(tps, lost=lost), self._loop).result()
        if offsets and not lost:
            try:
                consumer.commit(
                    offsets=[TopicPartition(t, p, o) for (t, p), o in offsets.items()], asynchronous=False
                )
                self.metrics.commits.labels(self.name, "ok").inc()
            except KafkaException as exc:
                self.metrics.commits.labels(self.name, "error").inc()
                log.warning("revoke_commit_failed", direction=self.name, error=str(exc))
        committed = {f"{topic}:{partition}": offset for (topic, partition), offset in offsets.items()}
        log.info(
            "partitions_revoked", direction=self.name, partitions=len(tps), lost=lost, committed=committed
        )

    async def _assigned(self, tps: list[TP], committed: dict[TP, int]) -> None:
        for tp in tps:
            st = PartitionState(retry_tier=self.retry_topics.get(tp[0]))
            if tp in committed:  # consumption starts there
                st.tracker.mark_committed(committed[tp])
                st.position = committed[tp]
            if not self.gate.is_open:
                st.reasons.add(AUTH)
            if self.backpressure.paused and self._held_since is None:  # paused in Kafka
                st.reasons.add(BACKPRESSURE)
            self.parts[tp] = st
        self.readiness.set_assigned(self.name, len(self.parts))
        log.info("partitions_assigned", direction=self.name, partitions=len(tps), total=len(self.parts))

    async def _drain(self, tps: list[TP], *, lost: bool) -> dict[TP, int]:
        """Finish (or abandon) the in-flight work of revoked partitions; their final commit points.

        Runs on the loop while the consumer thread waits: it must not await a consumer call.
        """
        revoked = set(tps)
        self.lanes.drop_waiting(lambda item: item.tp in revoked)
        if not lost:
            deadline = self.clock() + self.settings.worker.shutdown_deadline_s
            while self.gate.is_open and (remaining := deadline - self.clock()) > 0:
                if not any(i.tp in revoked for i in self.lanes.running()):
                    break
                await self._wait_progress(min(remaining, 0.1))
        await self._abandon(tps)
        offsets: dict[TP, int] = {}
        for tp in tps:
            st = self.parts.pop(tp, None)
            self.due.drop(tp)
            if st is None:
                continue
            if (point := st.tracker.committable()) is not None:
                offsets[tp] = point
            if st.retry_tier is None:
                with contextlib.suppress(KeyError):
                    self.metrics.consumer_lag.remove(self.name, tp[0], str(tp[1]))
        self.readiness.set_assigned(self.name, len(self.parts))
        return offsets

    async def _abandon(self, tps: list[TP]) -> int:
        """Cancel running records of `tps`; they stay unfinished (never committed past). A record
        waiting in a batching sink cannot be taken back: its later report is ignored."""
        wanted = set(tps)
        self.lanes.drop_waiting(lambda item: item.tp in wanted)
        running = [i for i in self.lanes.running() if i.tp in wanted]
        tasks = [i.task for i in running if i.task is not None and not i.task.done()]
        for task in tasks:
            task.cancel()
        for item in running:
            if item.task is None:
                self._end(item, False)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        return len(running)
