"""The two directions, wired: source topic, codec, translator and sink (STYLE §3.1).

A `Direction` is what the worker drives: `plan()` turns one decoded value into `Unit`s (pure:
the translator plus bookkeeping), and `sink.send()` delivers each unit's payload. Inbound, one
Segment message may become several Cordial requests: each is a unit with its own `cb-action`,
routed on its own. Outbound, a Cordial record becomes one Segment message.

`run_direction` and `run_workers` are the public entry points (the CLI, the demo and the tests
use them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from processor.codecs import ValueCodec, make_codec
from processor.config.settings import Settings
from processor.inbound.requests import CordialRequest, InboundTranslation
from processor.ops.metrics import BridgeMetrics
from processor.ops.readiness import Readiness
from processor.outbound.messages import OutboundTranslation
from processor.outcomes import Outcome, Rejected, Skipped
from processor.slots import slot_setter

OUTBOUND_LABEL = "track"
NO_MATCHING_ACTION = "no_matching_action"


class Sink(Protocol):
    """What the worker needs from a sink. `send` may block (in-process retries); never raises for HTTP."""

    async def send(self, payload: Any, /) -> Outcome: ...

    async def check_auth(self) -> Outcome: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class BatchingSink(Sink, Protocol):
    """A sink that also takes a payload with a callback instead of a coroutine (SegmentSink): the
    worker's per-record fast path. `submit` returns an Outcome when it refuses the payload at
    once (then `done` is never called); else `done(outcome or exception)` is called later. The
    batch numbers let a key's next record join its predecessor's batch while it is unsent (one
    request keeps their order; two concurrent requests would not)."""

    open_batch: int
    """Number of the batch being collected; it changes when that batch is sent."""
    last_batch: int
    """The batch the last accepted submission joined (still unsent while equal to `open_batch`)."""

    def submit(self, payload: Any, done: Callable[[Outcome | BaseException], None], /) -> Outcome | None: ...


@dataclass(frozen=True, slots=True, init=False)
class Unit:
    """One deliverable piece of a record: a request to send, or an outcome already decided."""

    label: str
    """Metric `action` label (a Cordial action, `track`, or `-`)."""
    action: str | None
    """`cb-action` for retry/DLQ records (inbound actions)."""
    payload: object | None = None
    decided: Rejected | None = None

    def __init__(
        self, label: str, action: str | None, payload: object | None = None, decided: Rejected | None = None
    ) -> None:  # hand-written: built once per record (processor/slots.py)
        _unit_label(self, label)
        _unit_action(self, action)
        _unit_payload(self, payload)
        _unit_decided(self, decided)


@dataclass(frozen=True, slots=True, init=False)
class Plan:
    units: tuple[Unit, ...]
    event_id: str | None = None
    skipped: str | None = None
    """Why nothing is sent on purpose (`blocked_recursion`, `filtered`, …); `units` is then empty."""
    dropped_keys: int = 0

    def __init__(
        self,
        units: tuple[Unit, ...],
        event_id: str | None = None,
        skipped: str | None = None,
        dropped_keys: int = 0,
    ) -> None:  # hand-written: built once per record (processor/slots.py)
        _plan_units(self, units)
        _plan_event_id(self, event_id)
        _plan_skipped(self, skipped)
        _plan_dropped_keys(self, dropped_keys)


_unit_label = slot_setter(Unit, "label")
_unit_action = slot_setter(Unit, "action")
_unit_payload = slot_setter(Unit, "payload")
_unit_decided = slot_setter(Unit, "decided")
_plan_units = slot_setter(Plan, "units")
_plan_event_id = slot_setter(Plan, "event_id")
_plan_skipped = slot_setter(Plan, "skipped")
_plan_dropped_keys = slot_setter(Plan, "dropped_keys")


@dataclass(slots=True)
class Direction:
    name: Literal["inbound", "outbound"]
    source_topic: str
    codec: ValueCodec
    plan: Callable[[object, str | None], Plan]
    """(decoded value, only this action or None) → Plan. Pure; never raises on bad input."""
    sink: Sink
    secrets: tuple[str, ...] = field(default=())


def plan_inbound(translation: InboundTranslation | Rejected, only_action: str | None) -> Plan:
    if isinstance(translation, Rejected):
        label = translation.action or "-"
        return Plan((Unit(label, translation.action, decided=translation),))
    if translation.skipped:
        return Plan((), translation.event_id, translation.skipped)
    units: list[Unit] = []
    for result in translation.results:
        if only_action is not None and result.action != only_action:
            continue
        if isinstance(result, CordialRequest):
            units.append(Unit(result.action, result.action, payload=result))
        else:
            rejected = Rejected(result.error_class, result.message, action=result.action)
            units.append(Unit(result.action, result.action, decided=rejected))
    if not units:
        return Plan((), translation.event_id, NO_MATCHING_ACTION)
    return Plan(tuple(units), translation.event_id)


def plan_outbound(translation: OutboundTranslation | Skipped | Rejected, only_action: str | None) -> Plan:
    if isinstance(translation, Rejected):
        return Plan((Unit(OUTBOUND_LABEL, None, decided=translation),))
    if isinstance(translation, Skipped):
        return Plan((), None, translation.reason)
    # The translator already serialised the message for its size check: send those bytes.
    unit = Unit(OUTBOUND_LABEL, None, payload=translation.encoded or translation.message)
    return Plan((unit,), translation.event_id, dropped_keys=len(translation.dropped_keys))


def build_direction(name: str, settings: Settings, *, metrics: BridgeMetrics) -> Direction:
    """The wiring of one direction. Raises ConfigError (e.g. a missing API key)."""
    registry = settings.topics.schema_registry
    if name == "inbound":
        from processor.inbound.translate import InboundTranslator
        from processor.sinks import CordialSink

        inbound = InboundTranslator(settings.inbound)
        topic = settings.topics.segment_inbound
        cordial = CordialSink(settings.cordial, metrics=metrics)
        key = settings.cordial.api_key
        return Direction(
            "inbound",
            topic.name,
            make_codec(topic, registry, max_bytes=settings.inbound.max_value_bytes),
            lambda obj, only: plan_inbound(inbound.translate(obj), only),
            cordial,
            (key.reveal(),) if key else (),
        )
    if name == "outbound":
        from processor.outbound.translate import OutboundTranslator
        from processor.sinks import SegmentSink

        outbound = OutboundTranslator(settings.outbound)
        topic = settings.topics.cordial_outbound
        segment = SegmentSink(settings.segment, metrics=metrics)
        key = settings.segment.write_key
        return Direction(
            "outbound",
            topic.name,
            make_codec(topic, registry, max_bytes=settings.outbound.max_value_bytes),
            lambda obj, only: plan_outbound(outbound.translate(obj), only),
            segment,
            (key.reveal(),) if key else (),
        )
    raise ValueError(f"unknown direction {name!r}: expected inbound or outbound")


async def run_direction(
    direction: Literal["inbound", "outbound"],
    settings: Settings,
    *,
    metrics: BridgeMetrics,
    readiness: Readiness,
    stop: asyncio.Event,
) -> None:
    """Run one direction's worker until `stop` is set, then shut it down gracefully."""
    from processor.runtime.worker import Worker

    wired = build_direction(direction, settings, metrics=metrics)
    worker = Worker(wired, settings, metrics=metrics, readiness=readiness)
    await worker.run(stop)


async def run_workers(
    directions: Sequence[str],
    settings: Settings,
    *,
    metrics: BridgeMetrics,
    readiness: Readiness,
    stop: asyncio.Event,
) -> None:
    """Run several directions concurrently until `stop`; if one fails, stop the others and re-raise."""
    names = list(dict.fromkeys(directions))
    for name in names:
        if name not in ("inbound", "outbound"):
            raise ValueError(f"unknown direction {name!r}: expected inbound or outbound")
        readiness.register(name)
    inner = asyncio.Event()

    async def relay() -> None:
        await stop.wait()
        inner.set()

    async def one(name: Any) -> None:
        try:
            await run_direction(name, settings, metrics=metrics, readiness=readiness, stop=inner)
        except BaseException:
            inner.set()
            raise

    relay_task = asyncio.create_task(relay())
    try:
        results = await asyncio.gather(*(one(n) for n in names), return_exceptions=True)
    finally:
        relay_task.cancel()
    for result in results:
        if isinstance(result, BaseException):
            raise result
