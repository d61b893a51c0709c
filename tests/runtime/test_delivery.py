"""RecordHandler with fakes: decode → plan → send → route → durable, per unit."""

from __future__ import annotations

from typing import Any

import pytest
import structlog
from prometheus_client import CollectorRegistry

from processor.codecs import JsonCodec
from processor.config.settings import ConsentSettings, InboundSettings, RetrySettings
from processor.errors import ErrorClass
from processor.inbound.requests import ActionRejected, CordialRequest, InboundTranslation
from processor.inbound.translate import InboundTranslator
from processor.ops.metrics import BridgeMetrics
from processor.outbound.messages import OutboundTranslation
from processor.outcomes import Rejected, Retry, Sent, Skipped
from processor.records import SourceRecord
from processor.runtime.auth import AuthGate
from processor.runtime.delivery import RecordHandler, StormGuard
from processor.runtime.directions import Direction, plan_inbound, plan_outbound
from processor.runtime.kafka import RecordRefusedError
from processor.runtime.retry import RetryPlan

from .fakes import FakeSink, dumps, fake_direction

NOW = 1_700_000_000_000


class Published:
    def __init__(self, refuse_topics: tuple[str, ...] = ()) -> None:
        self.records: list[tuple[str, bytes | None, bytes | None, dict[str, str]]] = []
        self.refuse_topics = refuse_topics

    async def __call__(self, topic: str, *, key: bytes | None, value: bytes | None, headers: Any) -> None:
        if topic in self.refuse_topics and value is not None:
            raise RecordRefusedError(None, "too large")
        self.records.append((topic, key, value, {k: v.decode() for k, v in headers}))


def handler_for(direction: Direction, publish: Published, *, storm_threshold: int = 100):
    metrics = BridgeMetrics(CollectorRegistry())
    storms: list[bool] = []
    gate = AuthGate(direction.sink.check_auth, initial_s=0.0, max_s=0.0, on_change=lambda _: None)
    handler = RecordHandler(
        direction,
        retry=RetryPlan.from_settings(RetrySettings(tiers=("1s", "5s"), max_attempts=3)),
        publish=publish,
        gate=gate,
        storm=StormGuard(storm_threshold, storms.append),
        metrics=metrics,
        wall_ms=lambda: NOW,
    )
    return handler, metrics, storms


def record(value: bytes | None, offset: int = 0, headers: dict[str, bytes] | None = None) -> SourceRecord:
    return SourceRecord("src", 0, offset, b"key", value, headers or {}, NOW - 10)


def sample(metrics: BridgeMetrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


async def test_each_action_is_routed_on_its_own() -> None:
    """One message, three actions: a sends, b is retryable → one retry record with cb-action=b,
    c is permanent → one DLQ record with cb-action=c."""

    def script(payload: dict[str, Any], attempt: int):
        return {
            "a": Sent(),
            "b": Retry(ErrorClass.HTTP_5XX, "503", status=503),
            "c": Rejected(ErrorClass.HTTP_4XX, "400", status=400),
        }[payload["action"]]

    sink = FakeSink(script)
    published = Published()
    handler, metrics, _ = handler_for(fake_direction("src", sink), published)
    await handler.handle(record(dumps({"id": "e1", "actions": ["a", "b", "c"]})))
    assert [p["action"] for p in sink.received] == ["a", "b", "c"], "actions are sent in order"
    assert [(t, h["cb-action"]) for t, _, _, h in published.records] == [
        ("src.retry.1s", "b"),
        ("src.dlq", "c"),
    ]
    assert all(
        value == dumps({"id": "e1", "actions": ["a", "b", "c"]}) for _, _, value, _ in published.records
    )
    assert (
        sample(metrics, "cordial_bridge_records_outcome_total", direction="inbound", outcome="dead_lettered")
        == 1
    )


async def test_retry_record_resends_only_its_action() -> None:
    """A retry record with cb-action=b sends b only."""
    sink = FakeSink()
    handler, _, _ = handler_for(fake_direction("src", sink), Published())
    headers = {"cb-original-topic": b"src", "cb-attempt": b"1", "cb-action": b"b"}
    value = dumps({"id": "e1", "actions": ["a", "b", "c"]})
    await handler.handle(SourceRecord("src.retry.1s", 0, 0, b"key", value, headers, NOW))
    assert [p["action"] for p in sink.received] == ["b"]


@pytest.mark.parametrize(
    ("value", "error_class"),
    [
        (b"{nope", "invalid_json"),
        (None, "invalid_json"),
        (b'"' + b"x" * 1_100_000 + b'"', "message_too_large"),
    ],
)
async def test_undecodable_values_are_dead_lettered(value: bytes | None, error_class: str) -> None:
    """Bad bytes never reach the sink; they go to the DLQ with their error class."""
    sink = FakeSink()
    published = Published()
    handler, _, _ = handler_for(fake_direction("src", sink), published)
    await handler.handle(record(value))
    assert sink.received == []
    [(topic, _, stored, headers)] = published.records
    assert topic == "src.dlq"
    assert stored == value
    assert headers["cb-error-class"] == error_class


async def test_refused_value_is_dead_lettered_without_bytes() -> None:
    """When the broker will never store the bytes, the DLQ gets the headers and cb-value-omitted."""
    sink = FakeSink()
    published = Published(refuse_topics=("src.dlq",))
    handler, _, _ = handler_for(fake_direction("src", sink), published)
    await handler.handle(record(b"{nope"))
    [(topic, _, stored, headers)] = published.records
    assert (topic, stored) == ("src.dlq", None)
    assert headers["cb-value-omitted"] == "5"


async def test_translator_crash_is_dead_lettered() -> None:
    """A translator bug must not stop the partition: the record is dead-lettered."""

    def boom(obj: object, only: str | None):
        raise KeyError("bug")

    direction = Direction("inbound", "src", JsonCodec(), boom, FakeSink())
    published = Published()
    handler, _, _ = handler_for(direction, published)
    await handler.handle(record(b"{}"))
    assert published.records[0][3]["cb-error-class"] == "invalid_message"


async def test_auth_failure_waits_and_resends_the_same_request() -> None:
    """401 → the gate closes, the probe passes, the same payload is sent again; nothing produced."""
    sink = FakeSink()
    sink.auth_ok = False
    sink.heal_after_probes = 2
    published = Published()
    handler, _, _ = handler_for(fake_direction("src", sink), published)
    await handler.handle(record(dumps({"id": "e1"})))
    assert published.records == []
    assert len(sink.received) == 2
    assert sink.delivered == [{"id": "e1"}]
    assert sink.probes == 2


async def test_dlq_storm_flips_and_recovers() -> None:
    """Consecutive dead letters past the threshold flip the storm flag; a success clears it."""
    sink = FakeSink(lambda p, n: Rejected(ErrorClass.HTTP_4XX, "400") if p["id"] != "ok" else Sent())
    handler, _, storms = handler_for(fake_direction("src", sink), Published(), storm_threshold=3)
    for i in range(3):
        await handler.handle(record(dumps({"id": f"bad{i}"}), offset=i))
    assert storms == [True]
    await handler.handle(record(dumps({"id": "ok"}), offset=9))
    assert storms == [True, False]


class TestPlans:
    def test_inbound_split_and_only_action(self) -> None:
        """Requests and per-action rejections become units; a retry's cb-action keeps only that one."""
        translation = InboundTranslation(
            (
                CordialRequest("upsertContact", {"a": 1}),
                ActionRejected("createContactactivity", ErrorClass.VALIDATION, "no action name"),
            ),
            event_id="m1",
        )
        plan = plan_inbound(translation, None)
        assert plan.event_id == "m1"
        assert [(u.action, u.payload is not None, u.decided) for u in plan.units] == [
            ("upsertContact", True, None),
            (
                "createContactactivity",
                False,
                Rejected(ErrorClass.VALIDATION, "no action name", action="createContactactivity"),
            ),
        ]
        only = plan_inbound(translation, "upsertContact")
        assert [u.action for u in only.units] == ["upsertContact"]
        assert plan_inbound(translation, "mergeContacts").skipped == "no_matching_action"

    def test_inbound_skip_and_reject(self) -> None:
        assert plan_inbound(InboundTranslation((), skipped="consent"), None).skipped == "consent"
        rejected = plan_inbound(Rejected(ErrorClass.MISSING_IDENTIFIER, "no id"), None)
        assert rejected.units[0].decided == Rejected(ErrorClass.MISSING_IDENTIFIER, "no id")

    def test_outbound(self) -> None:
        plan = plan_outbound(OutboundTranslation({"type": "track"}, "ev1", "email", ("a_b",)), None)
        assert plan.event_id == "ev1"
        assert plan.dropped_keys == 1
        assert plan.units[0].payload == {"type": "track"}
        assert plan_outbound(Skipped("blocked_recursion"), None).skipped == "blocked_recursion"


async def test_one_log_line_per_record_with_its_context() -> None:
    """A record with two actions logs exactly one line, naming its outcome; the task context carries
    event_id, direction, topic, partition and offset; no secret appears."""
    sink = FakeSink(
        lambda p, n: Sent() if p["action"] == "a" else Rejected(ErrorClass.HTTP_4XX, "x-api-key: k1")
    )
    handler, _, _ = handler_for(fake_direction("src", sink, ("k1",)), Published())
    structlog.contextvars.clear_contextvars()
    with structlog.testing.capture_logs() as logs:
        await handler.handle(record(dumps({"id": "e9", "actions": ["a", "b"]}), offset=5))
    assert [entry["event"] for entry in logs] == ["record_dead_lettered"]
    assert logs[0]["actions"] == {"a": "sent", "b": "dead_lettered"}
    assert structlog.contextvars.get_contextvars() == {
        "event_id": "e9", "direction": "inbound", "topic": "src", "partition": 0, "offset": 5,
    }  # fmt: skip
    assert "k1" not in repr(logs)
    structlog.contextvars.clear_contextvars()


async def test_consent_hold_back_is_counted_and_done_not_dead_lettered() -> None:
    """A message the consent policy holds back sends nothing, publishes nothing, and is counted
    as skipped with reason `consent` (SPEC §3.3), through the real inbound translator."""
    translator = InboundTranslator(
        InboundSettings(consent=ConsentSettings(enabled=True, mode="opted_in_only"))
    )
    sent: list[CordialRequest] = []

    class RecordingSink:
        async def send(self, request: CordialRequest, /) -> Sent:
            sent.append(request)
            return Sent()

        async def check_auth(self) -> Sent:
            return Sent()

        async def aclose(self) -> None:
            return None

    sink = RecordingSink()
    direction = Direction(
        "inbound", "src", JsonCodec(), lambda obj, only: plan_inbound(translator.translate(obj), only), sink
    )
    published = Published()
    handler, metrics, _ = handler_for(direction, published)
    opted_out = {"type": "identify", "userId": "u1", "traits": {"email": "a@b.com", "email_opt_in": False}}
    opted_in = {"type": "identify", "userId": "u2", "traits": {"email": "c@d.com", "email_opt_in": True}}
    await handler.handle(record(dumps(opted_out), offset=0))
    await handler.handle(record(dumps(opted_in), offset=1))
    assert sample(metrics, "cordial_bridge_records_skipped_total", direction="inbound", reason="consent") == 1
    assert [request.body["segmentId"] for request in sent] == ["u2"], "only the opted-in contact"
    assert published.records == []
