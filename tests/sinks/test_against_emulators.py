"""Both sinks over real sockets against the emulators (uvicorn in a thread), through the default
aiohttp transport: status classes, Retry-After, timeouts, AIMD under a 429 storm, batch limits,
bisection, gzip, and secrets kept out of every outcome."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import orjson
import pytest
from httpx_aiohttp import AiohttpTransport
from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from processor.config.secrets import Secret
from processor.emulators import cordial as cordial_emulator
from processor.emulators import segment as segment_emulator
from processor.emulators.serve import RunningServer, start_in_thread
from processor.errors import ErrorClass
from processor.inbound.requests import CordialRequest
from processor.outcomes import AuthFailed, Rejected, Retry, Sent
from processor.sinks.cordial import CordialSink
from processor.sinks.segment import SegmentSink

API_KEY = "ck_live_SECRET_api_key_0123456789"
WRITE_KEY = "wk_SECRET_write_key_abcdefghij"

UPSERT = CordialRequest(
    action="upsertContact",
    body={
        "segmentIdKey": "segment_id",
        "segmentId": "u1",
        "userIdentities": {"channels.email.address": "a@example.com"},
        "attributes": {"first_name": "Ada"},
    },
)


@pytest.fixture(scope="module")
def cordial_server() -> Iterator[RunningServer]:
    with start_in_thread(cordial_emulator.create_app(api_key=API_KEY)) as server:
        yield server


@pytest.fixture(scope="module")
def segment_server() -> Iterator[RunningServer]:
    with start_in_thread(segment_emulator.create_app(write_key=WRITE_KEY)) as server:
        yield server


def control(server: RunningServer, path: str, body: object | None = None) -> Any:
    with httpx.Client(base_url=server.url, timeout=5) as client:
        response = (
            client.post(path, json=body) if body is not None or path.endswith("reset") else client.get(path)
        )
        response.raise_for_status()
        return response.json()


@pytest.fixture
def cordial(cordial_server, make_cordial_settings, clock) -> Callable[..., CordialSink]:
    control(cordial_server, "/_emulator/reset")

    def make(key: str = API_KEY, endpoint: str | None = None, **http: object) -> CordialSink:
        settings = make_cordial_settings(endpoint or cordial_server.url, **http)
        return CordialSink(dataclasses.replace(settings, api_key=Secret(key)), timing=clock.timing())

    return make


@pytest.fixture
def segment(segment_server, make_segment_settings, clock) -> Callable[..., SegmentSink]:
    control(segment_server, "/_emulator/reset")

    def make(**fields: object) -> SegmentSink:
        fields.setdefault("linger_ms", 5)
        return SegmentSink(make_segment_settings(segment_server.url, **fields), timing=clock.timing())

    return make


# ------------------------------------------------------------------ Cordial


async def test_cordial_success_and_check_auth(cordial, cordial_server) -> None:
    sink = cordial()
    try:
        assert await sink.check_auth() == Sent(status=200, attempts=1)
        assert await sink.send(UPSERT) == Sent(status=200, attempts=1)
    finally:
        await sink.aclose()
    received = control(cordial_server, "/_emulator/received")
    paths = [r["path"] for r in received["requests"]]
    assert paths == ["/api/checkAuth", "/api/segment/upsertContact"]
    assert received["requests"][1]["body"] == UPSERT.body


async def test_cordial_wrong_key_is_auth_failed(cordial) -> None:
    sink = cordial(key="not-the-key")
    try:
        assert isinstance(await sink.check_auth(), AuthFailed)
        outcome = await sink.send(UPSERT)
        assert isinstance(outcome, AuthFailed)
        assert outcome.status == 401
        assert "not-the-key" not in outcome.message
    finally:
        await sink.aclose()


async def test_cordial_permanent_errors(cordial) -> None:
    sink = cordial()
    try:
        unknown = await sink.send(CordialRequest(action="noSuchAction", body={"a": 1}))
        assert isinstance(unknown, Rejected)
        assert (unknown.status, unknown.error_class, unknown.action) == (
            404,
            ErrorClass.HTTP_4XX,
            "noSuchAction",
        )
        invalid = await sink.send(
            CordialRequest(action="upsertContact", body={"attributes": "not an object"})
        )
        assert isinstance(invalid, Rejected)
        assert invalid.status == 400
    finally:
        await sink.aclose()


@pytest.mark.parametrize(("fault", "status"), [("rate_500", 500), ("rate_503", 503)])
async def test_cordial_5xx_retried_then_retry(cordial, cordial_server, clock, fault, status) -> None:
    control(cordial_server, "/_emulator/faults", {fault: 1.0})
    sink = cordial()
    try:
        outcome = await sink.send(UPSERT)
    finally:
        await sink.aclose()
    assert isinstance(outcome, Retry)
    assert (outcome.status, outcome.error_class, outcome.attempts) == (status, ErrorClass.HTTP_5XX, 3)
    assert len(clock.sleeps) == 2
    assert control(cordial_server, "/_emulator/received")["count"] == 3


async def test_cordial_429_retry_after_is_honoured(cordial, cordial_server, clock) -> None:
    control(cordial_server, "/_emulator/faults", {"rate_429": 1.0, "retry_after_s": 2})
    sink = cordial(backoff_max_s=5.0)
    try:
        outcome = await sink.send(UPSERT)
    finally:
        await sink.aclose()
    assert isinstance(outcome, Retry)
    assert (outcome.status, outcome.retry_after, outcome.attempts) == (429, 2.0, 3)
    assert clock.sleeps == [2.0, 2.0]


async def test_cordial_timeout_is_retryable(cordial, cordial_server) -> None:
    control(cordial_server, "/_emulator/faults", {"rate_timeout": 1.0, "timeout_hang_s": 3})
    sink = cordial(timeout_s=0.2, in_process_attempts=2)
    try:
        outcome = await sink.send(UPSERT)
    finally:
        await sink.aclose()
    assert isinstance(outcome, Retry)
    assert (outcome.error_class, outcome.attempts, outcome.status) == (ErrorClass.TIMEOUT, 2, None)
    assert API_KEY not in outcome.message


async def test_cordial_connection_refused_is_retryable(cordial) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = cordial(endpoint=f"http://127.0.0.1:{port}", in_process_attempts=2)
    try:
        outcome = await sink.send(UPSERT)
    finally:
        await sink.aclose()
    assert isinstance(outcome, Retry)
    assert (outcome.error_class, outcome.attempts) == (ErrorClass.CONNECTION, 2)
    assert API_KEY not in repr(outcome)


async def test_cordial_aimd_reacts_to_a_429_storm(cordial, cordial_server) -> None:
    control(cordial_server, "/_emulator/faults", {"rate_429": 1.0, "retry_after_s": 1})
    sink = cordial(max_concurrency=16, min_concurrency=1, in_process_attempts=1)
    try:
        for _ in range(5):
            outcomes = await asyncio.gather(*(sink.send(UPSERT) for _ in range(16)))
            assert all(isinstance(o, Retry) and o.status == 429 for o in outcomes)
        assert sink.limiter.limit == 1
        control(cordial_server, "/_emulator/faults", {"rate_429": 0.0})
        for _ in range(30):
            outcomes = await asyncio.gather(*(sink.send(UPSERT) for _ in range(16)))
            assert all(isinstance(o, Sent) for o in outcomes)
        assert sink.limiter.limit == 16
    finally:
        await sink.aclose()


# ------------------------------------------------------------------ Segment


def track(n: int, **extra: object) -> dict[str, object]:
    return {"type": "track", "event": "Email Opened", "anonymousId": f"c{n}", "messageId": f"m{n}", **extra}


async def test_segment_batches_are_accepted(segment, segment_server) -> None:
    sink = segment()
    try:
        outcomes = await asyncio.gather(*(sink.send(track(n)) for n in range(30)))
        assert await sink.check_auth() == Sent(status=200, attempts=1)
    finally:
        await sink.aclose()
    assert outcomes == [Sent(status=200, attempts=1)] * 30
    state = control(segment_server, "/_emulator/state")
    assert state["accepted"] == 30


async def test_segment_wrong_key_is_auth_failed(segment_server, make_segment_settings, clock) -> None:
    control(segment_server, "/_emulator/reset")
    settings = make_segment_settings(segment_server.url, linger_ms=1, write_key=Secret("wrong-key-123"))
    sink = SegmentSink(settings, timing=clock.timing())
    try:
        outcome = await sink.send(track(1))
        assert isinstance(outcome, AuthFailed)
        assert "wrong-key-123" not in outcome.message
        assert isinstance(await sink.check_auth(), AuthFailed)
    finally:
        await sink.aclose()


async def test_segment_limits_hold_with_large_messages(segment, segment_server) -> None:
    """~30 KB messages: every request stays under 475 KB and the emulator (500 KB limit) takes all."""
    sink = segment(linger_ms=50)
    messages = [track(n, properties={"blob": "x" * (29_000 + n)}) for n in range(40)]
    try:
        outcomes = await asyncio.gather(*(sink.send(m) for m in messages))
    finally:
        await sink.aclose()
    assert all(o == Sent(status=200, attempts=1) for o in outcomes)
    received = control(segment_server, "/_emulator/received")["requests"]
    assert len(received) >= 3
    for request in received:
        assert request["status"] == 200
        assert len(orjson.dumps(request["body"])) <= 475_000
    assert control(segment_server, "/_emulator/state")["accepted"] == 40


async def test_segment_bisection_isolates_the_invalid_message(segment, segment_server) -> None:
    sink = segment(linger_ms=20)
    messages = [track(n) for n in range(50)]
    messages[23] = {"type": "track", "anonymousId": "c23", "messageId": "m23"}  # no event: Segment refuses it
    try:
        outcomes = await asyncio.gather(*(sink.send(m) for m in messages))
    finally:
        await sink.aclose()
    assert [i for i, o in enumerate(outcomes) if not isinstance(o, Sent)] == [23]
    bad = outcomes[23]
    assert isinstance(bad, Rejected)
    assert bad.status == 400
    assert "event" in bad.message
    assert control(segment_server, "/_emulator/state")["accepted"] == 49


async def test_segment_gzip(segment, segment_server) -> None:
    sink = segment(gzip=True)
    try:
        outcomes = await asyncio.gather(*(sink.send(track(n)) for n in range(10)))
    finally:
        await sink.aclose()
    assert all(isinstance(o, Sent) for o in outcomes)
    assert control(segment_server, "/_emulator/state")["accepted"] == 10


async def test_segment_503_retries_the_batch(segment, segment_server, clock) -> None:
    control(segment_server, "/_emulator/faults", {"rate_503": 1.0})
    sink = segment()
    try:
        outcomes = await asyncio.gather(*(sink.send(track(n)) for n in range(5)))
    finally:
        await sink.aclose()
    assert all(isinstance(o, Retry) and o.status == 503 and o.attempts == 3 for o in outcomes)
    assert control(segment_server, "/_emulator/received")["count"] == 3


# ------------------------------------------------------------------ the two ways to the wire


@pytest.mark.parametrize("via", ["aiohttp", "httpx-aiohttp"])
async def test_both_exchanges_classify_alike(cordial_server, make_cordial_settings, clock, via) -> None:
    """The default (aiohttp) and httpx on the aiohttp transport give the same outcomes."""
    control(cordial_server, "/_emulator/reset")

    def make(key: str = API_KEY, **http: object) -> CordialSink:
        settings = dataclasses.replace(make_cordial_settings(cordial_server.url, **http), api_key=Secret(key))
        transport = AiohttpTransport() if via == "httpx-aiohttp" else None
        return CordialSink(settings, transport=transport, timing=clock.timing())

    sinks = [make(), make(key="wrong-key-7"), make(timeout_s=0.2, in_process_attempts=1)]
    try:
        assert await sinks[0].send(UPSERT) == Sent(status=200, attempts=1)
        refused = await sinks[0].send(CordialRequest(action="noSuchAction", body={}))
        assert isinstance(refused, Rejected)
        assert refused.status == 404
        assert "unknown action" in refused.message
        assert isinstance(await sinks[1].send(UPSERT), AuthFailed)
        control(cordial_server, "/_emulator/faults", {"rate_timeout": 1.0, "timeout_hang_s": 2})
        timed_out = await sinks[2].send(UPSERT)
        assert isinstance(timed_out, Retry)
        assert timed_out.error_class == ErrorClass.TIMEOUT
    finally:
        for sink in sinks:
            await sink.aclose()


async def test_compressed_error_body_is_read(make_cordial_settings, clock, api_key) -> None:
    """A gzip-encoded error answer is decoded once (aiohttp) and quoted in the outcome."""

    async def refuse(request: Request) -> Response:
        return PlainTextResponse(f"field 'attributes' is invalid; key {api_key} " + "padding " * 100, 400)

    app = Starlette(routes=[Route("/api/segment/{action}", refuse, methods=["POST"])])
    app.add_middleware(GZipMiddleware, minimum_size=10)
    with start_in_thread(app) as server:
        sink = CordialSink(make_cordial_settings(server.url), timing=clock.timing())
        try:
            outcome = await sink.send(UPSERT)
        finally:
            await sink.aclose()
    assert isinstance(outcome, Rejected)
    assert "field 'attributes' is invalid" in outcome.message
    assert api_key not in outcome.message
