"""The worker on the real broker: delivery, order, retry topics, DLQ, auth pause, shutdown commits."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest
import structlog
from confluent_kafka import Message
from prometheus_client import CollectorRegistry

from processor.config.settings import RetrySettings
from processor.errors import ErrorClass
from processor.ops.metrics import BridgeMetrics
from processor.ops.readiness import Readiness
from processor.outcomes import Rejected, Retry, Sent
from processor.runtime.worker import Worker

from .fakes import FakeBatchingSink, FakeSink, broker_settings, dumps, fake_direction, wait_for

pytestmark = pytest.mark.kafka


@pytest.fixture(params=[FakeSink, FakeBatchingSink], ids=["task-path", "fast-path"])
def sink_cls(request: pytest.FixtureRequest) -> type[FakeSink]:
    """Both ways a record goes: a task per record (`send`), or a batching sink's `submit`."""
    return request.param


async def start(worker: Worker) -> tuple[asyncio.Event, asyncio.Task[None]]:
    """Run the worker until its partitions are assigned (topics exist by then)."""
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await wait_for(lambda: bool(worker.parts) or task.done(), what="assignment")
    if task.done():
        task.result()
    return stop, task


async def test_delivers_every_record_in_key_order(sink_cls, kafka_broker, unique_name, producer_factory):
    """Every record reaches the sink once, and records of one key arrive in produced order."""
    source = unique_name("src")
    settings = broker_settings(kafka_broker.bootstrap_servers, source, unique_name("g"))
    sink = sink_cls()
    sink.delay_s = 0.002
    worker = Worker(
        fake_direction(source, sink),
        settings,
        metrics=BridgeMetrics(CollectorRegistry()),
        readiness=Readiness(),
    )
    stop, task = await start(worker)
    producer = producer_factory()
    for i in range(300):
        key = f"k{i % 7}"
        producer.produce(source, key=key.encode(), value=dumps({"id": i, "key": key}))
    producer.flush(10)
    await wait_for(lambda: len(sink.delivered) >= 300, what="300 deliveries")
    stop.set()
    await task
    by_key: dict[str, list[int]] = {}
    for payload in sink.delivered:
        by_key.setdefault(payload["key"], []).append(payload["id"])
    assert sorted(p["id"] for p in sink.delivered) == list(range(300))
    for ids in by_key.values():
        assert ids == sorted(ids)
    assert sink.closed
    if isinstance(sink, FakeBatchingSink):  # every record took the fast path
        assert sink.submitted == 300
        # A key's records joined one another's unsent batch (and still arrived in order).
        assert any(len(batch) > len({p["key"] for p in batch}) for batch in sink.batches)


def read_topic(consumer_factory, topic: str, count: int, timeout_s: float = 20.0) -> list[Message]:
    """The first `count` records of `topic` (all partitions)."""
    consumer = consumer_factory()
    consumer.subscribe([topic])
    records: list[Message] = []
    deadline = time.monotonic() + timeout_s
    while len(records) < count and time.monotonic() < deadline:
        message = consumer.poll(0.2)
        if message is not None and message.error() is None:
            records.append(message)
    consumer.close()
    return records


def header_map(message: Message) -> dict[str, str]:
    from processor.runtime.kafka import to_record

    return {k: v.decode() for k, v in to_record(message).headers.items()}


def make_worker(
    kafka_broker, unique_name, sink, lag_interval_s: float = 5.0, hold_max_s: float = 5.0, **worker_settings
):
    source = unique_name("src")
    settings = broker_settings(kafka_broker.bootstrap_servers, source, unique_name("g"), **worker_settings)
    metrics = BridgeMetrics(CollectorRegistry())
    readiness = Readiness()
    worker = Worker(
        fake_direction(source, sink, ("sekrit-key-123",)),
        settings,
        metrics=metrics,
        readiness=readiness,
        lag_interval_s=lag_interval_s,
        hold_max_s=hold_max_s,
    )
    return source, worker, metrics, readiness


def sample(metrics: BridgeMetrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def test_retryable_failures_go_through_retry_topics_and_arrive(
    sink_cls, kafka_broker, unique_name, producer_factory, consumer_factory
):
    """A 503 twice, then success: the record passes tier 1 and tier 2, waits for cb-due-at each time,
    and is delivered; only the failing action of a multi-action record is re-sent."""

    def script(payload, attempt):
        if payload["id"] == "flaky" and payload.get("action") == "b" and attempt < 3:
            return Retry(ErrorClass.HTTP_5XX, "503 from upstream", status=503)
        if payload["id"] == "never":
            return Retry(ErrorClass.TIMEOUT, "timed out")
        return Sent()

    sink = sink_cls(script)
    source, worker, metrics, _ = make_worker(kafka_broker, unique_name, sink)
    stop, task = await start(worker)
    producer = producer_factory()
    producer.produce(source, key=b"u1", value=dumps({"id": "flaky", "actions": ["a", "b"]}))
    producer.produce(source, key=b"u2", value=dumps({"id": "fine"}))
    producer.produce(source, key=b"u3", value=dumps({"id": "never"}))
    producer.flush(10)
    await wait_for(lambda: any(p.get("action") == "b" for p in sink.delivered), what="retried delivery")
    await wait_for(
        lambda: sample(metrics, "cordial_bridge_records_dead_lettered_total", direction="inbound", action="-",
                       error_class="retries_exhausted") == 1,
        what="max attempts reached",
    )  # fmt: skip
    stop.set()
    await task
    sent_a = [p for p in sink.received if p["id"] == "flaky" and p["action"] == "a"]
    sent_b = [p for p in sink.received if p["id"] == "flaky" and p["action"] == "b"]
    assert len(sent_a) == 1, "the action that succeeded is not sent again"
    assert len(sent_b) == 3
    assert sample(metrics, "cordial_bridge_records_retried_total", direction="inbound", action="b",
                  error_class="http_5xx", tier="1s") == 1  # fmt: skip
    assert sample(metrics, "cordial_bridge_records_retried_total", direction="inbound", action="b",
                  error_class="http_5xx", tier="2s") == 1  # fmt: skip
    tier1 = read_topic(consumer_factory, f"{source}.retry.1s", 1)
    headers = header_map(tier1[0])
    assert headers["cb-attempt"] == "1"
    assert headers["cb-action"] == "b"
    assert headers["cb-original-topic"] == source
    assert headers["cb-error-class"] == "http_5xx"
    assert headers["cb-error-status"] == "503"
    assert tier1[0].key() == b"u1"
    assert sum(p["id"] == "never" for p in sink.received) == 3, "max_attempts=3: three tries, then the DLQ"
    [dead] = read_topic(consumer_factory, f"{source}.dlq", 1)
    dead_headers = header_map(dead)
    assert dead_headers["cb-error-class"] == "retries_exhausted"
    assert dead_headers["cb-attempt"] == "3"
    assert "timeout" in dead_headers["cb-error-message"]
    assert dead.value() == dumps({"id": "never"})
    # The second attempt happened no earlier than the record's due time.
    index_b2 = [i for i, p in enumerate(sink.received) if p["id"] == "flaky" and p["action"] == "b"][1]
    assert sink.received_at[index_b2] * 1000 >= int(headers["cb-due-at"]) - 5


async def test_permanent_failures_and_poison_land_in_dlq_while_partition_flows(
    sink_cls, kafka_broker, unique_name, producer_factory, consumer_factory
):
    """400, not-JSON, a 2 MB value and a value without id go to the DLQ with SPEC §6 headers;
    the records behind them on the same partition and key are still delivered."""

    def script(payload, attempt):
        if payload["id"] == "bad":
            return Rejected(ErrorClass.HTTP_4XX, "400 bad field; x-api-key: sekrit-key-123", status=400)
        return Sent()

    sink = sink_cls(script)
    source, worker, metrics, _ = make_worker(kafka_broker, unique_name, sink)
    stop, task = await start(worker)
    producer = producer_factory(**{"message.max.bytes": 4_000_000})
    values = [
        dumps({"id": "bad"}),
        b"{not json",
        b'"' + b"x" * 2_000_000 + b'"',
        dumps({"no": "id"}),
        dumps({"id": "good"}),
    ]
    for value in values:
        producer.produce(source, key=b"same", value=value, partition=0)
    producer.flush(10)
    await wait_for(lambda: any(p["id"] == "good" for p in sink.delivered), what="record behind poison")
    await wait_for(
        lambda: (
            sample(
                metrics, "cordial_bridge_records_outcome_total", direction="inbound", outcome="dead_lettered"
            )
            == 4
        ),
        what="4 dead letters",
    )
    stop.set()
    await task
    dlq = read_topic(consumer_factory, f"{source}.dlq", 4)
    assert len(dlq) == 4
    by_class = {}
    for message in dlq:
        headers = header_map(message)
        by_class[headers["cb-error-class"]] = (message, headers)
        assert headers["cb-original-topic"] == source
        assert headers["cb-original-partition"] == "0"
        assert headers["cb-direction"] == "inbound"
        assert headers["cb-attempt"] == "1"
        assert "cb-due-at" not in headers
        assert "sekrit-key-123" not in headers["cb-error-message"]
        assert message.key() == b"same"
    assert set(by_class) == {"http_4xx", "invalid_json", "message_too_large", "invalid_message"}
    message, headers = by_class["invalid_json"]
    assert message.value() == b"{not json", "the original bytes are never rewritten"
    assert headers["cb-original-offset"] == "1"
    assert by_class["http_4xx"][1]["cb-error-status"] == "400"


async def test_fast_path_refusal_at_submit_is_dead_lettered(
    kafka_broker, unique_name, producer_factory, consumer_factory
):
    """A payload the batching sink refuses on the spot is routed to the DLQ like any rejection,
    and the record behind it on the same key is still delivered."""
    sink = FakeBatchingSink()
    sink.refuse_at_once.add("huge")
    source, worker, _, _ = make_worker(kafka_broker, unique_name, sink)
    stop, task = await start(worker)
    producer = producer_factory()
    for value in (dumps({"id": "huge"}), dumps({"id": "after"})):
        producer.produce(source, key=b"same", value=value, partition=0)
    producer.flush(10)
    await wait_for(lambda: any(p["id"] == "after" for p in sink.delivered), what="record behind the refusal")
    stop.set()
    await task
    dlq = read_topic(consumer_factory, f"{source}.dlq", 1)
    assert len(dlq) == 1
    assert header_map(dlq[0])["cb-error-class"] == "message_too_large"
    assert dlq[0].value() == dumps({"id": "huge"})
    assert [p["id"] for p in sink.received] == ["after"]  # the refused one never reached a batch


async def test_auth_failure_pauses_the_direction_and_recovers_without_loss(
    sink_cls, kafka_broker, unique_name, producer_factory, consumer_factory
):
    """A 401 pauses everything (readiness false, metric 1), nothing is dead-lettered or committed past
    the failed record; when checkAuth passes again, every record is delivered."""
    sink = sink_cls()
    source, worker, metrics, readiness = make_worker(kafka_broker, unique_name, sink)
    stop, task = await start(worker)
    sink.auth_ok = False
    producer = producer_factory()
    for i in range(20):
        producer.produce(source, key=f"k{i % 4}".encode(), value=dumps({"id": i}))
    producer.flush(10)
    await wait_for(lambda: sink.probes >= 2, what="auth probes")
    assert readiness.snapshot()[1]["directions"]["inbound"]["auth_paused"] is True
    assert not readiness.snapshot()[0]
    assert sample(metrics, "cordial_bridge_auth_paused", direction="inbound") == 1
    assert all(st.reasons for st in worker.parts.values()), "every partition of the direction is paused"
    assert not sink.delivered
    sink.auth_ok = True
    await wait_for(lambda: len({p["id"] for p in sink.delivered}) == 20, what="all 20 after recovery")
    assert readiness.snapshot()[1]["directions"]["inbound"]["auth_paused"] is False
    assert sample(metrics, "cordial_bridge_auth_paused", direction="inbound") == 0
    stop.set()
    await task
    assert (
        sample(metrics, "cordial_bridge_records_outcome_total", direction="inbound", outcome="dead_lettered")
        == 0
    )
    assert sample(metrics, "cordial_bridge_records_retried_total", direction="inbound", action="-",
                  error_class="auth", tier="1s") == 0  # fmt: skip


async def test_graceful_shutdown_commits_and_a_restart_resumes_after_them(
    sink_cls, kafka_broker, unique_name, producer_factory, consumer_factory
):
    """After stop, the group's committed offsets cover every delivered record, so a second worker of
    the same group delivers only the records produced afterwards."""
    sink = sink_cls()
    source, worker, metrics, readiness = make_worker(
        kafka_broker, unique_name, sink, commit_interval_s=60.0, lag_interval_s=0.2
    )
    stop, task = await start(worker)
    producer = producer_factory()
    for i in range(30):
        producer.produce(source, key=f"k{i % 5}".encode(), value=dumps({"id": i}))
    producer.flush(10)
    await wait_for(lambda: len(sink.delivered) == 30, what="first 30")

    def lag() -> float:
        return sum(sample(metrics, "cordial_bridge_consumer_lag", direction="inbound", topic=source,
                          partition=str(p)) for p in range(3))  # fmt: skip

    # Nothing is committed yet (interval 60 s), so the lag shows all 30 records.
    await wait_for(lambda: lag() == 30, what="consumer lag exported")
    assert readiness.snapshot()[0], "assigned, broker reachable, not paused: ready"
    stop.set()
    await task
    committed = consumer_factory(**{"group.id": worker.settings.kafka.group_id + "-inbound"})
    from confluent_kafka import TopicPartition

    offsets = committed.committed([TopicPartition(source, p) for p in range(3)], timeout=10)
    assert sum(max(tp.offset, 0) for tp in offsets) == 30
    assert readiness.snapshot()[1]["directions"]["inbound"]["assigned_partitions"] == 0

    for i in range(30, 35):
        producer.produce(source, key=f"k{i % 5}".encode(), value=dumps({"id": i}))
    producer.flush(10)
    sink2 = sink_cls()
    worker2 = Worker(
        fake_direction(source, sink2), worker.settings, metrics=BridgeMetrics(CollectorRegistry()),
        readiness=Readiness(),
    )  # fmt: skip
    stop2, task2 = await start(worker2)
    await wait_for(lambda: len(sink2.delivered) >= 5, what="the 5 new records")
    stop2.set()
    await task2
    assert sorted(p["id"] for p in sink2.delivered) == [30, 31, 32, 33, 34]


async def test_backpressure_pauses_at_the_cap_and_resumes_without_loss(
    sink_cls, kafka_broker, unique_name, producer_factory
):
    """With max_in_flight=4 and no hold allowed, the worker never holds more than 4 records; partitions
    pause and resume (seeking back over the dropped prefetch) and every record still arrives exactly
    once, in key order."""
    sink = sink_cls()
    sink.delay_s = 0.01
    source, worker, _, _ = make_worker(
        kafka_broker, unique_name, sink, hold_max_s=0.0, max_in_flight=4, resume_below=0.5
    )
    peak = {"in_flight": 0, "paused": 0}
    original_send = sink.send

    async def observing_send(payload, /):
        peak["in_flight"] = max(peak["in_flight"], worker.lanes.in_flight)
        peak["paused"] = max(peak["paused"], sum(st.kafka_paused for st in worker.parts.values()))
        return await original_send(payload)

    sink.send = observing_send
    stop, task = await start(worker)
    producer = producer_factory()
    for i in range(120):
        producer.produce(source, key=f"k{i % 10}".encode(), value=dumps({"id": i, "key": i % 10}))
    producer.flush(10)
    await wait_for(lambda: len(sink.delivered) >= 120, what="120 deliveries")
    stop.set()
    await task
    assert sorted(p["id"] for p in sink.delivered) == list(range(120))
    assert peak["in_flight"] <= 4
    assert peak["paused"] > 0, "the source partitions were paused at the cap"
    for key in range(10):
        ids = [p["id"] for p in sink.delivered if p["key"] == key]
        assert ids == sorted(ids)


async def test_short_backpressure_holds_fetching_without_pausing(kafka_broker, unique_name, producer_factory):
    """At the cap the loop stops fetching instead of pausing in Kafka (which would discard the
    prefetch): never more than the cap in flight, no partition ever paused, nothing lost or reordered."""
    sink = FakeSink()
    sink.delay_s = 0.01
    source, worker, _, _ = make_worker(
        kafka_broker, unique_name, sink, hold_max_s=60.0, max_in_flight=4, resume_below=0.5
    )
    peak = {"in_flight": 0, "paused": 0, "held": 0}
    original_send = sink.send

    async def observing_send(payload, /):
        peak["in_flight"] = max(peak["in_flight"], worker.lanes.in_flight)
        peak["paused"] = max(peak["paused"], sum(st.kafka_paused for st in worker.parts.values()))
        peak["held"] += worker.backpressure.paused
        return await original_send(payload)

    sink.send = observing_send  # type: ignore[method-assign]
    stop, task = await start(worker)
    producer = producer_factory()
    for i in range(120):
        producer.produce(source, key=f"k{i % 10}".encode(), value=dumps({"id": i, "key": i % 10}))
    producer.flush(10)
    await wait_for(lambda: len(sink.delivered) >= 120, what="120 deliveries")
    stop.set()
    await task
    assert sorted(p["id"] for p in sink.delivered) == list(range(120))
    assert peak["in_flight"] <= 4
    assert peak["held"] > 0, "the cap was reached"
    assert peak["paused"] == 0, "a short hold never pauses a partition"
    for key in range(10):
        ids = [p["id"] for p in sink.delivered if p["key"] == key]
        assert ids == sorted(ids)


async def test_rebalance_to_a_second_worker_loses_nothing(
    sink_cls, kafka_broker, unique_name, producer_factory
):
    """A second worker joins mid-stream: revoked partitions are drained and committed before they
    move, so every record is delivered (at least once) and nothing is delivered twice."""
    sink_a, sink_b = sink_cls(), sink_cls()
    sink_a.delay_s = sink_b.delay_s = 0.005
    source, worker_a, _, _ = make_worker(kafka_broker, unique_name, sink_a)
    stop_a, task_a = await start(worker_a)
    producer = producer_factory()
    for i in range(200):
        producer.produce(source, key=f"k{i % 12}".encode(), value=dumps({"id": i, "key": i % 12}))
    producer.flush(10)
    await wait_for(lambda: len(sink_a.delivered) >= 20, what="first deliveries")
    worker_b = Worker(
        fake_direction(source, sink_b), worker_a.settings, metrics=BridgeMetrics(CollectorRegistry()),
        readiness=Readiness(),
    )  # fmt: skip
    stop_b, task_b = await start(worker_b)
    for i in range(200, 300):
        producer.produce(source, key=f"k{i % 12}".encode(), value=dumps({"id": i, "key": i % 12}))
    producer.flush(10)
    delivered = lambda: {p["id"] for p in sink_a.delivered + sink_b.delivered}  # noqa: E731
    await wait_for(lambda: len(delivered()) >= 300, what="all 300 across both workers")
    stop_a.set()
    stop_b.set()
    await asyncio.gather(task_a, task_b)
    ids = [p["id"] for p in sink_a.delivered + sink_b.delivered]
    assert set(ids) == set(range(300))
    assert len(ids) == 300, "a drained revoke hands over without duplicates"
    assert sink_b.delivered, "the second worker got partitions"
    for sink in (sink_a, sink_b):
        for key in range(12):
            seq = [p["id"] for p in sink.delivered if p["key"] == key]
            assert seq == sorted(seq)


async def test_refused_key_at_start_pauses_before_the_first_record(
    kafka_broker, unique_name, producer_factory
):
    """checkAuth fails at start-up: the direction is not ready and consumes nothing until the key works."""
    sink = FakeSink()
    sink.auth_ok = False
    source, worker, _, readiness = make_worker(kafka_broker, unique_name, sink)
    stop, task = await start(worker)
    await wait_for(lambda: all("auth" in st.reasons for st in worker.parts.values()), what="auth pause")
    assert not readiness.snapshot()[0]
    producer = producer_factory()
    for i in range(5):
        producer.produce(source, key=b"k", value=dumps({"id": i}))
    producer.flush(10)
    await asyncio.sleep(0.5)
    assert sink.received == [], "nothing is sent while the key is refused"
    sink.auth_ok = True
    await wait_for(lambda: len(sink.delivered) == 5, what="5 after the key works")
    assert [p["id"] for p in sink.delivered] == [0, 1, 2, 3, 4]
    stop.set()
    await task


async def test_waiting_longer_than_max_poll_interval_keeps_the_group(
    kafka_broker, unique_name, producer_factory
):
    """A retry tier of 8 s with max.poll.interval.ms = 6 s: the gate pauses the partition and keeps
    polling, so the worker is never evicted (no revoke) and the record arrives after its due time."""
    calls: list[float] = []

    def script(payload, attempt):
        calls.append(time.time())
        return Retry(ErrorClass.HTTP_5XX, "503", status=503) if attempt == 1 else Sent()

    sink = FakeSink(script)
    source = unique_name("src")
    settings = broker_settings(kafka_broker.bootstrap_servers, source, unique_name("g"))
    settings = dataclasses.replace(settings, retry=RetrySettings(tiers=("8s",), max_attempts=3))
    worker = Worker(
        fake_direction(source, sink),
        settings,
        metrics=BridgeMetrics(CollectorRegistry()),
        readiness=Readiness(),
    )
    with structlog.testing.capture_logs() as logs:
        stop, task = await start(worker)
        producer = producer_factory()
        producer.produce(source, key=b"k", value=dumps({"id": "late"}))
        producer.flush(10)
        await wait_for(lambda: len(sink.delivered) == 1, timeout_s=40, what="delivery after 8 s")
        revokes_before_stop = [e for e in logs if e["event"] == "partitions_revoked"]
        stop.set()
        await task
    assert revokes_before_stop == [], "never evicted from the group while holding the record"
    assert calls[1] - calls[0] >= 7.9
