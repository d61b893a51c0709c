"""Fakes for runtime tests: a programmable sink, a direction built on it, settings for the broker."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import orjson

from processor.codecs import JsonCodec
from processor.config.settings import (
    KafkaSettings,
    RetrySettings,
    Settings,
    TopicSettings,
    TopicsSettings,
    WorkerSettings,
)
from processor.errors import ErrorClass
from processor.outcomes import AuthFailed, Outcome, Rejected, Sent
from processor.runtime.directions import Direction, Plan, Unit

FAST_CLIENT = {
    "max.poll.interval.ms": "6000",
    "session.timeout.ms": "6000",
    "heartbeat.interval.ms": "500",
    "topic.metadata.refresh.interval.ms": "1000",
}


class FakeSink:
    """Records every payload; the answer comes from `script(payload, attempt_of_that_payload)`."""

    def __init__(self, script: Callable[[dict[str, Any], int], Outcome] | None = None) -> None:
        self.script = script or (lambda payload, n: Sent())
        self.received: list[dict[str, Any]] = []
        self.received_at: list[float] = []
        self.delivered: list[dict[str, Any]] = []
        self.attempts: dict[str, int] = {}
        self.auth_ok = True
        self.probes = 0
        self.heal_after_probes: int | None = None
        """When set, the key starts working again at this probe."""
        self.closed = False
        self.delay_s = 0.0

    async def send(self, payload: Any, /) -> Outcome:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        self.received.append(payload)
        self.received_at.append(time.time())
        ident = f"{payload.get('id')}/{payload.get('action', '-')}"
        self.attempts[ident] = self.attempts.get(ident, 0) + 1
        if not self.auth_ok:
            return AuthFailed(401, "unauthorised")
        outcome = self.script(payload, self.attempts[ident])
        if isinstance(outcome, Sent):
            self.delivered.append(payload)
        return outcome

    async def check_auth(self) -> Outcome:
        self.probes += 1
        if self.heal_after_probes is not None and self.probes >= self.heal_after_probes:
            self.auth_ok = True
        return Sent() if self.auth_ok else AuthFailed(401, "unauthorised")

    async def aclose(self) -> None:
        self.closed = True


def fake_plan(obj: object, only_action: str | None) -> Plan:
    """`{"id":…, "actions":[…]}` → one unit per action (each payload is the object plus `action`)."""
    if not isinstance(obj, dict) or "id" not in obj:
        return Plan((Unit("-", None, decided=Rejected(ErrorClass.INVALID_MESSAGE, "no id")),))
    actions = obj.get("actions") or [None]
    units = []
    for action in actions:
        if only_action is not None and action != only_action:
            continue
        payload = {**obj, "action": action} if action else dict(obj)
        units.append(Unit(action or "-", action, payload=payload))
    return Plan(tuple(units), event_id=str(obj["id"]))


def fake_direction(source_topic: str, sink: FakeSink, secrets: tuple[str, ...] = ()) -> Direction:
    return Direction("inbound", source_topic, JsonCodec(), fake_plan, sink, secrets)


def broker_settings(bootstrap: str, source_topic: str, group: str, **worker: Any) -> Settings:
    worker_defaults: dict[str, Any] = {
        "commit_interval_s": 0.2,
        "shutdown_deadline_s": 5.0,
        "auth_probe_initial_s": 0.2,
        "auth_probe_max_s": 0.5,
        "poll_timeout_s": 0.05,
    }
    return Settings(
        kafka=KafkaSettings(bootstrap_servers=bootstrap, group_id=group, partitions=3, client=FAST_CLIENT),
        topics=TopicsSettings(segment_inbound=TopicSettings(source_topic)),
        retry=RetrySettings(tiers=("1s", "2s"), max_attempts=3),
        worker=WorkerSettings(**{**worker_defaults, **worker}),
    )


def dumps(obj: object) -> bytes:
    return orjson.dumps(obj)


async def wait_for(predicate: Callable[[], bool], timeout_s: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


class FakeBatchingSink(FakeSink):
    """FakeSink with the worker's fast path: `submit` collects payloads and answers each batch
    `linger_s` after its first payload, through the callbacks (like SegmentSink)."""

    def __init__(self, script: Callable[[dict[str, Any], int], Outcome] | None = None) -> None:
        super().__init__(script)
        self.linger_s = 0.005
        self.submitted = 0
        self.open_batch = 0
        self.last_batch = -1
        self.batches: list[list[Any]] = []
        self.refuse_at_once: set[object] = set()
        """Payload ids `submit` refuses on the spot (like SegmentSink with a message too large)."""
        self._open: list[tuple[Any, Callable[[Outcome | BaseException], None]]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, payload: Any, done: Callable[[Outcome | BaseException], None], /) -> Outcome | None:
        self.submitted += 1
        if payload.get("id") in self.refuse_at_once:
            return Rejected(ErrorClass.MESSAGE_TOO_LARGE, "message is too large to send")
        if not self._open:
            asyncio.get_running_loop().call_later(self.linger_s, self._flush)
        self._open.append((payload, done))
        self.last_batch = self.open_batch
        return None

    def _flush(self) -> None:
        batch, self._open = self._open, []
        self.open_batch += 1
        self.batches.append([payload for payload, _ in batch])
        task = asyncio.get_running_loop().create_task(self._answer(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, batch: list[tuple[Any, Callable[[Outcome | BaseException], None]]]) -> None:
        for payload, done in batch:
            done(await self.send(payload))
