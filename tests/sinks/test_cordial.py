"""CordialSink over MockTransport: wire format, in-process retries, Retry-After, AIMD, metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import orjson
import pytest
from structlog.testing import capture_logs

from processor.config.settings import CordialSettings
from processor.errors import ConfigError, ErrorClass
from processor.inbound.requests import CordialRequest
from processor.ops.metrics import BridgeMetrics
from processor.outcomes import AuthFailed, Rejected, Retry, Sent
from processor.sinks.cordial import CordialSink

REQUEST = CordialRequest(
    action="upsertContact",
    body={
        "segmentIdKey": "segment_id",
        "segmentId": "u1",
        "userIdentities": {"channels.email.address": "a@b.co"},
        "attributes": {"z": 1, "a": None},
    },
)


def scripted(answers: list[httpx.Response | Exception], seen: list[httpx.Request]) -> httpx.MockTransport:
    """Answers in order; the last one repeats."""
    queue: Iterator[httpx.Response | Exception] = iter(answers)
    last: list[httpx.Response | Exception] = [answers[-1]]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = next(queue, last[0])
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.MockTransport(handler)


@pytest.fixture
def seen() -> list[httpx.Request]:
    return []


@pytest.fixture
def sink_factory(make_cordial_settings, clock, seen) -> Callable[..., CordialSink]:
    def make(
        answers: list[httpx.Response | Exception], metrics: BridgeMetrics | None = None, **http: object
    ) -> CordialSink:
        return CordialSink(
            make_cordial_settings(**http),
            metrics=metrics,
            transport=scripted(answers, seen),
            timing=clock.timing(),
        )

    return make


async def test_posts_body_in_wire_order_with_headers(sink_factory, seen, api_key) -> None:
    sink = sink_factory([httpx.Response(200, json={"success": True})])
    assert await sink.send(REQUEST) == Sent(status=200, attempts=1)
    await sink.aclose()
    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == "http://cordial.test/api/segment/upsertContact"
    assert request.headers["x-api-key"] == api_key
    assert request.headers["accept"] == "application/json"
    assert request.headers["content-type"] == "application/json"
    assert request.content == orjson.dumps(REQUEST.body)
    assert list(orjson.loads(request.content)) == [
        "segmentIdKey",
        "segmentId",
        "userIdentities",
        "attributes",
    ]


async def test_check_auth_gets_check_auth(sink_factory, seen) -> None:
    sink = sink_factory([httpx.Response(200, json={"ok": True})])
    assert await sink.check_auth() == Sent(status=200, attempts=1)
    assert (seen[0].method, seen[0].url.path) == ("GET", "/api/checkAuth")
    sink2 = sink_factory([httpx.Response(401, json={"error": "invalid key"})])
    assert isinstance(await sink2.check_auth(), AuthFailed)


async def test_retryable_then_success_counts_attempts(sink_factory, seen, clock) -> None:
    sink = sink_factory([httpx.Response(503), httpx.Response(500), httpx.Response(202)])
    assert await sink.send(REQUEST) == Sent(status=202, attempts=3)
    assert len(seen) == 3
    # jittered backoff with rand=0.5: 0.75 * (0.2, 0.4)
    assert clock.sleeps == pytest.approx([0.15, 0.3])


@pytest.mark.parametrize("status", [408, 423, 429, 500, 502, 503, 504])
async def test_retryable_gives_up_after_in_process_attempts(sink_factory, seen, clock, status) -> None:
    sink = sink_factory([httpx.Response(status, text="later")], in_process_attempts=4)
    outcome = await sink.send(REQUEST)
    assert isinstance(outcome, Retry)
    assert (outcome.status, outcome.attempts) == (status, 4)
    assert len(seen) == 4
    assert len(clock.sleeps) == 3


@pytest.mark.parametrize("status", [400, 404, 422, 501])
async def test_permanent_is_not_retried(sink_factory, seen, status) -> None:
    sink = sink_factory([httpx.Response(status, json={"error": "bad field"})])
    outcome = await sink.send(REQUEST)
    assert isinstance(outcome, Rejected)
    assert (outcome.status, outcome.action) == (status, "upsertContact")
    assert "bad field" in outcome.message
    assert len(seen) == 1


@pytest.mark.parametrize("status", [401, 403])
async def test_auth_is_not_retried(sink_factory, seen, status) -> None:
    sink = sink_factory([httpx.Response(status)])
    assert isinstance(await sink.send(REQUEST), AuthFailed)
    assert len(seen) == 1


async def test_retry_after_seconds_is_waited(sink_factory, clock) -> None:
    sink = sink_factory(
        [httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(200)], backoff_max_s=5.0
    )
    assert await sink.send(REQUEST) == Sent(status=200, attempts=2)
    assert clock.sleeps == [2.0]


async def test_retry_after_http_date_is_waited(sink_factory, clock) -> None:
    date = format_datetime(datetime.fromtimestamp(clock.now + 3, tz=UTC), usegmt=True)
    sink = sink_factory([httpx.Response(503, headers={"Retry-After": date}), httpx.Response(200)])
    assert await sink.send(REQUEST) == Sent(status=200, attempts=2)
    assert clock.sleeps == pytest.approx([3.0])


async def test_long_retry_after_goes_to_the_retry_topic_at_once(sink_factory, seen, clock) -> None:
    sink = sink_factory([httpx.Response(429, headers={"Retry-After": "120"})], backoff_max_s=5.0)
    outcome = await sink.send(REQUEST)
    assert outcome == Retry(
        ErrorClass.HTTP_429, "HTTP 429 from upsertContact", status=429, retry_after=120.0, attempts=1
    )
    assert clock.sleeps == []
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("exc", "error_class"),
    [
        (httpx.ReadTimeout("timed out"), ErrorClass.TIMEOUT),
        (httpx.ConnectError("refused"), ErrorClass.CONNECTION),
    ],
)
async def test_failures_without_an_answer_are_retried(sink_factory, seen, exc, error_class) -> None:
    sink = sink_factory([exc])
    outcome = await sink.send(REQUEST)
    assert isinstance(outcome, Retry)
    assert (outcome.error_class, outcome.attempts, outcome.status) == (error_class, 3, None)
    assert len(seen) == 3


async def test_a_429_storm_shrinks_the_limit_and_success_grows_it(
    make_cordial_settings, clock, metrics
) -> None:
    state = {"storm": True}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429) if state["storm"] else httpx.Response(200)

    settings = make_cordial_settings(max_concurrency=32, min_concurrency=2, in_process_attempts=2)
    sink = CordialSink(
        settings, metrics=metrics, transport=httpx.MockTransport(handler), timing=clock.timing()
    )
    assert sink.limiter.limit == 32
    for _ in range(5):
        outcomes = await asyncio.gather(*(sink.send(REQUEST) for _ in range(40)))
        assert all(isinstance(o, Retry) for o in outcomes)
    assert sink.limiter.limit == 2
    gauge = metrics.registry.get_sample_value("cordial_bridge_concurrency_limit", {"direction": "inbound"})
    assert gauge == 2
    state["storm"] = False
    for _ in range(20):
        outcomes = await asyncio.gather(*(sink.send(REQUEST) for _ in range(40)))
        assert all(isinstance(o, Sent) for o in outcomes)
    assert sink.limiter.limit == 32
    assert (
        metrics.registry.get_sample_value("cordial_bridge_concurrency_limit", {"direction": "inbound"}) == 32
    )


async def test_requests_in_flight_never_exceed_the_limit(make_cordial_settings, clock) -> None:
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0)
        in_flight -= 1
        return httpx.Response(200)

    settings = make_cordial_settings(max_concurrency=5)
    sink = CordialSink(settings, transport=httpx.MockTransport(handler), timing=clock.timing())
    await asyncio.gather(*(sink.send(REQUEST) for _ in range(50)))
    assert peak == 5


async def test_metrics_by_direction_action_and_status(sink_factory, metrics) -> None:
    sink = sink_factory(
        [httpx.Response(500), httpx.ReadTimeout("slow"), httpx.Response(200)], metrics=metrics
    )
    await sink.send(REQUEST)
    value = metrics.registry.get_sample_value
    for status in ("5xx", "timeout", "2xx"):
        labels = {"direction": "inbound", "action": "upsertContact", "status": status}
        assert value("cordial_bridge_http_requests_total", labels) == 1
        assert value("cordial_bridge_http_request_duration_seconds_count", labels) == 1
    assert value("cordial_bridge_http_in_flight_requests", {"direction": "inbound"}) == 0


async def test_secrets_absent_from_every_outcome(sink_factory, api_key) -> None:
    echo = f"bad request, key was {api_key}, headers x-api-key: {api_key}"
    cases: list[httpx.Response | Exception] = [
        httpx.Response(400, text=echo),
        httpx.Response(401, text=echo),
        httpx.Response(503, text=echo),
        httpx.ConnectError(f"cannot reach http://cordial.test/?x-api-key={api_key}"),
    ]
    for answer in cases:
        outcome = await sink_factory([answer]).send(REQUEST)
        assert api_key not in repr(outcome)


async def test_injected_client_still_gets_the_headers(make_cordial_settings, seen, api_key) -> None:
    client = httpx.AsyncClient(
        base_url="http://cordial.test", transport=scripted([httpx.Response(200)], seen)
    )
    sink = CordialSink(make_cordial_settings(), client=client)
    await sink.send(REQUEST)
    await sink.aclose()
    assert not client.is_closed  # the caller owns it
    assert seen[0].headers["x-api-key"] == api_key
    await client.aclose()


async def test_unserialisable_body_is_rejected(sink_factory, seen) -> None:
    sink = sink_factory([httpx.Response(200)])
    outcome = await sink.send(CordialRequest(action="upsertContact", body={"x": object()}))
    assert isinstance(outcome, Rejected)
    assert outcome.error_class == ErrorClass.VALIDATION
    assert seen == []


def test_missing_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="CORDIAL_API_KEY"):
        CordialSink(CordialSettings())


async def test_timeouts_shrink_the_limit_but_other_errors_do_not(make_cordial_settings, clock) -> None:
    """16 requests in flight together time out: one halving, not sixteen."""
    answers: dict[str, httpx.Response | Exception] = {"now": httpx.Response(500)}

    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0)  # let all sixteen get in flight before any answers
        answer = answers["now"]
        if isinstance(answer, Exception):
            raise answer
        return answer

    settings = make_cordial_settings(max_concurrency=16, in_process_attempts=1)
    sink = CordialSink(settings, transport=httpx.MockTransport(handler), timing=clock.timing())
    for status in (500, 503, 400, 401):
        answers["now"] = httpx.Response(status)
        await asyncio.gather(*(sink.send(REQUEST) for _ in range(16)))
    assert sink.limiter.limit == 16
    answers["now"] = httpx.ReadTimeout("timed out")
    await asyncio.gather(*(sink.send(REQUEST) for _ in range(16)))
    assert sink.limiter.limit == 8


async def test_retry_log_lines_carry_no_key(sink_factory, api_key) -> None:
    sink = sink_factory([httpx.Response(503, text=f"overloaded; your key {api_key}"), httpx.Response(200)])
    with capture_logs() as logs:
        assert await sink.send(REQUEST) == Sent(status=200, attempts=2)
    assert [entry["event"] for entry in logs] == ["http_attempt_retrying"]
    assert logs[0]["status"] == 503
    assert api_key not in repr(logs)
