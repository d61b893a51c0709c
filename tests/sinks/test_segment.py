"""SegmentSink over MockTransport: batching limits, linger, gzip, bisection, per-message outcomes."""

from __future__ import annotations

import asyncio
import base64
import gzip
import itertools
from collections.abc import Callable

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processor.config.settings import HttpSettings, SegmentSettings
from processor.errors import ConfigError, ErrorClass
from processor.outcomes import AuthFailed, Outcome, Rejected, Retry, Sent
from processor.sinks.batcher import ENVELOPE_BYTES, BatchBuilder, batch_size, encode_batch, format_sent_at
from processor.sinks.requester import Timing
from processor.sinks.segment import SegmentSink

Handler = Callable[[httpx.Request], httpx.Response]


def message(n: int, **extra: object) -> dict[str, object]:
    return {"type": "track", "event": "Email Opened", "anonymousId": f"c{n}", "messageId": f"m{n}", **extra}


def batch_of(request: httpx.Request) -> list[dict[str, object]]:
    raw = request.content
    if request.headers.get("content-encoding") == "gzip":
        raw = gzip.decompress(raw)
    body = orjson.loads(raw)
    assert list(body) == ["batch", "sentAt"]
    return body["batch"]


class Recorder:
    """A MockTransport handler that records each request and answers with `answer(batch)`."""

    def __init__(self, answer: Callable[[list[dict[str, object]]], httpx.Response] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.answer = answer or (lambda batch: httpx.Response(200, json={"success": True}))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(batch_of(request))

    @property
    def batches(self) -> list[list[dict[str, object]]]:
        return [batch_of(r) for r in self.requests]


@pytest.fixture
def sink_factory(make_segment_settings, clock) -> Callable[..., SegmentSink]:
    def make(handler: Handler, *, http: HttpSettings | None = None, **fields: object) -> SegmentSink:
        fields.setdefault("linger_ms", 60_000)  # tests flush explicitly unless they test linger
        return SegmentSink(
            make_segment_settings(http=http, **fields),
            transport=httpx.MockTransport(handler),
            timing=clock.timing(),
        )

    return make


async def send_all(sink: SegmentSink, messages: list[dict[str, object]]) -> list[Outcome]:
    tasks = [asyncio.create_task(sink.send(m)) for m in messages]
    await asyncio.sleep(0)
    await sink.flush()
    return list(await asyncio.gather(*tasks))


async def test_wire_format(sink_factory, write_key, clock) -> None:
    recorder = Recorder()
    sink = sink_factory(recorder)
    outcomes = await send_all(sink, [message(1), message(2)])
    assert outcomes == [Sent(status=200, attempts=1)] * 2
    (request,) = recorder.requests
    assert (request.method, str(request.url)) == ("POST", "http://segment.test/v1/batch")
    assert request.headers["authorization"] == "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
    assert request.headers["content-type"] == "application/json"
    assert "content-encoding" not in request.headers
    body = orjson.loads(request.content)
    assert body == {"batch": [message(1), message(2)], "sentAt": format_sent_at(clock.now)}
    assert body["sentAt"] == "2027-01-15T08:00:00.000Z"


async def test_count_limit_splits_batches(sink_factory) -> None:
    recorder = Recorder()
    sink = sink_factory(recorder, batch_max_messages=10)
    outcomes = await send_all(sink, [message(n) for n in range(25)])
    assert all(isinstance(o, Sent) for o in outcomes)
    assert [len(b) for b in recorder.batches] == [10, 10, 5]
    assert [m["messageId"] for b in recorder.batches for m in b] == [f"m{n}" for n in range(25)]


async def test_count_above_segment_limit_is_clamped(sink_factory) -> None:
    recorder = Recorder()
    sink = sink_factory(recorder, batch_max_messages=10_000)
    await send_all(sink, [{"i": n} for n in range(2600)])
    assert [len(b) for b in recorder.batches] == [2500, 100]


async def test_linger_sends_a_partial_batch(sink_factory) -> None:
    recorder = Recorder()
    sink = sink_factory(recorder, linger_ms=5)
    outcomes = await asyncio.wait_for(asyncio.gather(*(sink.send(message(n)) for n in range(3))), 5)
    assert outcomes == [Sent(status=200, attempts=1)] * 3
    assert [len(b) for b in recorder.batches] == [3]


async def test_a_batch_that_stops_growing_goes_before_its_linger_time(sink_factory) -> None:
    """All callers are waiting on this batch: nothing will join it, so it is sent (not after 60 s)."""
    recorder = Recorder()
    sink = sink_factory(recorder, linger_ms=60_000)
    outcomes = await asyncio.wait_for(asyncio.gather(*(sink.send(message(n)) for n in range(7))), 5)
    assert outcomes == [Sent(status=200, attempts=1)] * 7
    assert [len(b) for b in recorder.batches] == [7]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=900), min_size=1, max_size=60),
    max_messages=st.integers(min_value=1, max_value=12),
    max_bytes=st.integers(min_value=1000, max_value=4000),
)
def test_batches_never_exceed_count_or_bytes(make_segment_settings, sizes, max_messages, max_bytes) -> None:
    recorder = Recorder()
    settings_ = make_segment_settings(
        batch_max_messages=max_messages, batch_max_bytes=max_bytes, linger_ms=60_000
    )
    messages = [{"n": i, "pad": "é" * (size // 2)} for i, size in enumerate(sizes)]

    async def scenario() -> list[Outcome]:
        sink = SegmentSink(settings_, transport=httpx.MockTransport(recorder))
        try:
            return await send_all(sink, messages)
        finally:
            await sink.aclose()

    outcomes = asyncio.run(scenario())
    for request in recorder.requests:
        assert len(request.content) <= max_bytes
        assert len(batch_of(request)) <= max_messages
    delivered = [m["n"] for b in recorder.batches for m in b]
    assert delivered == [i for i, o in enumerate(outcomes) if isinstance(o, Sent)]
    # every batch but the last was closed because the next message would not fit
    batches = recorder.batches
    for batch, following in itertools.pairwise(batches):
        sizes = [len(orjson.dumps(m)) for m in batch]
        next_size = len(orjson.dumps(following[0]))
        assert len(batch) == max_messages or batch_size([*sizes, next_size]) > max_bytes
    for i, outcome in enumerate(outcomes):
        if not isinstance(outcome, Sent):
            assert isinstance(outcome, Rejected)
            assert outcome.error_class == ErrorClass.MESSAGE_TOO_LARGE
            assert len(orjson.dumps(messages[i])) > max_bytes - ENVELOPE_BYTES


@given(sizes=st.lists(st.integers(min_value=0, max_value=500), max_size=30))
def test_batch_size_is_exact(sizes) -> None:
    parts = [orjson.dumps({"p": "x" * s}) for s in sizes]
    body = encode_batch(parts, format_sent_at(0))
    assert len(body) == batch_size([len(p) for p in parts])
    builder: BatchBuilder[int] = BatchBuilder(max_messages=100, max_bytes=475_000)
    for i, part in enumerate(parts):
        builder.add(i, len(part))
    assert builder.size == len(body)


async def test_oversized_message_is_rejected_without_sending(sink_factory) -> None:
    recorder = Recorder()
    sink = sink_factory(recorder)
    outcome = await sink.send(message(1, properties={"blob": "x" * 33_000}))
    assert isinstance(outcome, Rejected)
    assert outcome.error_class == ErrorClass.MESSAGE_TOO_LARGE
    await sink.flush()
    assert recorder.requests == []


async def test_gzip(sink_factory) -> None:
    recorder = Recorder()
    sink = sink_factory(recorder, gzip=True)
    outcomes = await send_all(sink, [message(n) for n in range(50)])
    assert all(isinstance(o, Sent) for o in outcomes)
    (request,) = recorder.requests
    assert request.headers["content-encoding"] == "gzip"
    assert gzip.decompress(request.content).startswith(b'{"batch":[')
    assert len(batch_of(request)) == 50


def refuse_bad(batch: list[dict[str, object]]) -> httpx.Response:
    if any(m.get("bad") for m in batch):
        return httpx.Response(400, json={"error": "invalid message"})
    return httpx.Response(200)


async def test_bisection_isolates_one_bad_message(sink_factory) -> None:
    recorder = Recorder(refuse_bad)
    sink = sink_factory(recorder)
    messages = [message(n, bad=(n == 37)) for n in range(100)]
    outcomes = await send_all(sink, messages)
    rejected = [i for i, o in enumerate(outcomes) if isinstance(o, Rejected)]
    assert rejected == [37]
    bad = outcomes[37]
    assert isinstance(bad, Rejected)
    assert (bad.status, bad.error_class) == (400, ErrorClass.HTTP_4XX)
    assert "invalid message" in bad.message
    assert all(isinstance(o, Sent) for i, o in enumerate(outcomes) if i != 37)
    delivered = sorted(
        str(m["messageId"]) for b in recorder.batches if not any(x.get("bad") for x in b) for m in b
    )
    assert delivered == sorted(f"m{n}" for n in range(100) if n != 37)
    assert len(recorder.requests) <= 2 * 7 + 1  # one failing path down a tree of depth ⌈log2 100⌉


async def test_bisection_with_several_bad_messages(sink_factory) -> None:
    recorder = Recorder(refuse_bad)
    sink = sink_factory(recorder)
    bad = {0, 5, 6, 63}
    outcomes = await send_all(sink, [message(n, bad=(n in bad)) for n in range(64)])
    assert {i for i, o in enumerate(outcomes) if isinstance(o, Rejected)} == bad
    assert sum(isinstance(o, Sent) for o in outcomes) == 60


async def test_retryable_answer_retries_the_whole_batch(sink_factory, clock) -> None:
    answers = iter([httpx.Response(503), httpx.Response(200)])
    recorder = Recorder(lambda batch: next(answers))
    sink = sink_factory(recorder)
    outcomes = await send_all(sink, [message(n) for n in range(5)])
    assert outcomes == [Sent(status=200, attempts=2)] * 5
    assert recorder.batches[0] == recorder.batches[1]
    assert len(clock.sleeps) == 1


async def test_retries_exhausted_gives_every_message_retry(sink_factory) -> None:
    recorder = Recorder(lambda batch: httpx.Response(429, headers={"Retry-After": "1"}))
    sink = sink_factory(recorder)
    outcomes = await send_all(sink, [message(n) for n in range(4)])
    assert all(
        isinstance(o, Retry) and o.error_class == ErrorClass.HTTP_429 and o.attempts == 3 for o in outcomes
    )


async def test_auth_failure_for_every_message(sink_factory) -> None:
    recorder = Recorder(lambda batch: httpx.Response(401, json={"error": "invalid write key"}))
    sink = sink_factory(recorder)
    outcomes = await send_all(sink, [message(n) for n in range(4)])
    assert all(isinstance(o, AuthFailed) for o in outcomes)
    assert len(recorder.requests) == 1


async def test_other_4xx_rejects_the_batch_without_bisecting(sink_factory) -> None:
    recorder = Recorder(lambda batch: httpx.Response(404))
    sink = sink_factory(recorder)
    outcomes = await send_all(sink, [message(n) for n in range(8)])
    assert all(isinstance(o, Rejected) and o.status == 404 for o in outcomes)
    assert len(recorder.requests) == 1


async def test_several_batches_in_flight_under_the_limit(make_segment_settings) -> None:
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        for _ in range(5):
            await asyncio.sleep(0)
        in_flight -= 1
        return httpx.Response(200)

    for limit, expected in ((8, 4), (2, 2)):
        peak = 0
        settings_ = make_segment_settings(
            batch_max_messages=5, linger_ms=60_000, http=HttpSettings(max_concurrency=limit)
        )
        sink = SegmentSink(settings_, transport=httpx.MockTransport(handler))
        outcomes = await send_all(sink, [message(n) for n in range(20)])
        assert all(isinstance(o, Sent) for o in outcomes)
        assert peak == expected
        await sink.aclose()


async def test_aclose_flushes_and_refuses_more(sink_factory) -> None:
    recorder = Recorder()
    sink = sink_factory(recorder)
    task = asyncio.create_task(sink.send(message(1)))
    await asyncio.sleep(0)
    await sink.aclose()
    assert await task == Sent(status=200, attempts=1)
    with pytest.raises(RuntimeError):
        await sink.send(message(2))


async def test_check_auth_posts_an_empty_batch(sink_factory, write_key) -> None:
    recorder = Recorder()
    sink = sink_factory(recorder)
    assert await sink.check_auth() == Sent(status=200, attempts=1)
    (request,) = recorder.requests
    assert request.url.path == "/v1/batch"
    assert batch_of(request) == []
    refused = sink_factory(Recorder(lambda batch: httpx.Response(401, text=f"bad key {write_key}")))
    outcome = await refused.check_auth()
    assert isinstance(outcome, AuthFailed)
    assert write_key not in outcome.message


async def test_secrets_absent_from_outcomes(sink_factory, write_key) -> None:
    token = base64.b64encode(f"{write_key}:".encode()).decode()
    for status in (400, 401, 500):
        text = f"key {write_key} auth Basic {token}"

        def answer(batch: list[dict[str, object]], status: int = status, text: str = text) -> httpx.Response:
            return httpx.Response(status, text=text)

        recorder = Recorder(answer)
        outcomes = await send_all(sink_factory(recorder), [message(1)])
        assert write_key not in repr(outcomes)
        assert token not in repr(outcomes)


async def test_unserialisable_message_is_rejected(sink_factory) -> None:
    outcome = await sink_factory(Recorder()).send({"x": {1, 2}})
    assert isinstance(outcome, Rejected)
    assert outcome.error_class == ErrorClass.INVALID_MESSAGE


def test_missing_write_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="SEGMENT_WRITE_KEY"):
        SegmentSink(SegmentSettings())


async def test_injected_client_gets_auth_per_request(make_segment_settings, write_key) -> None:
    recorder = Recorder()
    client = httpx.AsyncClient(base_url="http://segment.test", transport=httpx.MockTransport(recorder))
    sink = SegmentSink(make_segment_settings(linger_ms=1), client=client, timing=Timing())
    assert await sink.send(message(1)) == Sent(status=200, attempts=1)
    await sink.aclose()
    assert recorder.requests[0].headers["authorization"].startswith("Basic ")
    assert not client.is_closed
    await client.aclose()


@pytest.mark.parametrize(("slack", "expected"), [(0, [2]), (-1, [1, 1])])
async def test_byte_limit_is_exact_at_the_boundary(make_segment_settings, slack, expected) -> None:
    """Two messages that fill the limit to the byte share a batch; one byte less and they do not."""
    one = orjson.dumps(message(1))
    two = orjson.dumps(message(2))
    limit = ENVELOPE_BYTES + len(one) + 1 + len(two) + slack
    recorder = Recorder()
    sink = SegmentSink(
        make_segment_settings(batch_max_bytes=limit, linger_ms=60_000),
        transport=httpx.MockTransport(recorder),
    )
    await send_all(sink, [message(1), message(2)])
    assert [len(b) for b in recorder.batches] == expected
    assert all(len(r.content) <= limit for r in recorder.requests)
    assert len(recorder.requests[0].content) == (limit if slack == 0 else ENVELOPE_BYTES + len(one))


async def test_submit_reports_through_the_callback_and_numbers_batches(sink_factory) -> None:
    """`submit` needs no coroutine per message: pre-serialised bytes join the open batch, the
    callback gets each message's Outcome, and `last_batch == open_batch` exactly while the batch
    the last message joined is unsent."""
    recorder = Recorder()
    sink = sink_factory(recorder, batch_max_messages=3)
    results: list[Outcome | BaseException] = []
    assert sink.submit(orjson.dumps(message(1)), results.append) is None
    assert sink.last_batch == sink.open_batch
    assert sink.submit(message(2), results.append) is None
    assert sink.last_batch == sink.open_batch
    assert sink.submit(message(3), results.append) is None  # full: sent at once
    assert sink.last_batch == sink.open_batch - 1
    assert sink.submit(message(4), results.append) is None
    assert sink.last_batch == sink.open_batch
    await sink.flush()
    assert results == [Sent(status=200, attempts=1)] * 4
    assert [[m["messageId"] for m in b] for b in recorder.batches] == [["m1", "m2", "m3"], ["m4"]]
    too_big = sink.submit(message(5, properties={"blob": "x" * 33_000}), results.append)
    assert isinstance(too_big, Rejected)
    assert too_big.error_class == ErrorClass.MESSAGE_TOO_LARGE
    assert len(results) == 4  # a refused message never reaches the callback
    await sink.aclose()


async def test_bisection_sends_the_halves_in_order(sink_factory) -> None:
    """A 400 splits the batch; the first half is answered before the second is sent, so the
    accepted messages of one contact still reach Segment in their order."""

    def answer(batch: list[dict[str, object]]) -> httpx.Response:
        bad = any(m["messageId"] == "m1" for m in batch)
        return httpx.Response(400 if bad else 200, json={})

    recorder = Recorder(answer)
    sink = sink_factory(recorder, batch_max_messages=4)
    outcomes = await asyncio.wait_for(asyncio.gather(*(sink.send(message(n)) for n in range(4))), 5)
    assert [type(o) for o in outcomes] == [Sent, Rejected, Sent, Sent]
    accepted = [b for b in recorder.batches if all(m["messageId"] != "m1" for m in b)]
    sent_order = [m["messageId"] for b in accepted for m in b]
    assert sent_order == ["m0", "m2", "m3"]
    await sink.aclose()
